/**
 * A voucher's split tree (`GET /v1/vouchers/:id/tree`) drawn as an SVG: the root on top, each
 * split's children below it in range order, every node coloured by status, the voucher being
 * viewed outlined. Leaves take one column each and a parent sits over the middle of its children.
 *
 * The ledger shows a party only the branches it may see (docs/protocol.md §8), so a split voucher's
 * visible children may not cover its range. Each uncovered run of units is drawn as a dashed
 * "not visible to you" box with its amount (1 unit = 1 fen), and the card says per node how much
 * is hidden, so nothing is left out silently.
 */
import type { TreeNode } from '../../src/client/index.js';
import { VOUCHER_STATUSES } from '../../src/domain/types.js';
import { navigate, voucherPath } from './state.js';
import { money } from './ui.js';

const NODE_W = 176;
const NODE_H = 64;
const GAP_X = 14;
const GAP_Y = 44;
const PAD = 8;

/** The sentences of this view that are new in both languages (the rest waits for the zh catalog). */
const TEXT = {
  hiddenBox: '不可见 not visible to you',
  hidden: (n: number, amount: string) => `有 ${amount}（${n} 段）你无权查看 ${amount} in ${n} hidden range${n === 1 ? '' : 's'}: parts not visible to you`,
};

/** A run of a split voucher's units that none of its visible children covers. */
export interface Gap {
  readonly parentId: string;
  readonly start: bigint;
  readonly end: bigint;
}

/** The runs of `n`'s range that its visible children leave uncovered (none if it was not split). */
export const gapsOf = (n: TreeNode): Gap[] => {
  if (n.status !== 'split') return [];
  const out: Gap[] = [];
  let at = BigInt(n.range.start);
  const end = BigInt(n.range.end);
  for (const c of [...n.children].sort((a, b) => (BigInt(a.range.start) < BigInt(b.range.start) ? -1 : 1))) {
    const cs = BigInt(c.range.start);
    if (cs > at) out.push({ parentId: n.id, start: at, end: cs });
    if (BigInt(c.range.end) > at) at = BigInt(c.range.end);
  }
  if (at < end) out.push({ parentId: n.id, start: at, end });
  return out;
};

/** Every node of the tree with hidden parts, and the parts, top down. */
export const hiddenParts = (root: TreeNode): { node: TreeNode; gaps: Gap[] }[] => {
  const out: { node: TreeNode; gaps: Gap[] }[] = [];
  const walk = (n: TreeNode): void => {
    const gaps = gapsOf(n);
    if (gaps.length > 0) out.push({ node: n, gaps });
    n.children.forEach(walk);
  };
  walk(root);
  return out;
};

type Item = { readonly kind: 'node'; readonly node: TreeNode } | { readonly kind: 'gap'; readonly gap: Gap };

interface Placed {
  readonly item: Item;
  readonly x: number;
  readonly y: number;
  readonly children: readonly Placed[];
}

const startOf = (i: Item): bigint => (i.kind === 'node' ? BigInt(i.node.range.start) : i.gap.start);

/** A node's children and hidden runs, in range order. */
const childItems = (n: TreeNode): Item[] =>
  [...n.children.map((c): Item => ({ kind: 'node', node: c })), ...gapsOf(n).map((g): Item => ({ kind: 'gap', gap: g }))].sort((a, b) =>
    startOf(a) < startOf(b) ? -1 : 1,
  );

/** Lays out the tree: leaves left to right, parents centred over their children. */
const layout = (root: TreeNode): { placed: Placed; width: number; height: number } => {
  let column = 0;
  let depthMax = 0;
  const place = (item: Item, depth: number): Placed => {
    depthMax = Math.max(depthMax, depth);
    const y = PAD + depth * (NODE_H + GAP_Y);
    const items = item.kind === 'node' ? childItems(item.node) : [];
    if (items.length === 0) {
      const x = PAD + column * (NODE_W + GAP_X);
      column += 1;
      return { item, x, y, children: [] };
    }
    const children = items.map((c) => place(c, depth + 1));
    const x = (children[0]!.x + children[children.length - 1]!.x) / 2;
    return { item, x, y, children };
  };
  const placed = place({ kind: 'node', node: root }, 0);
  return { placed, width: PAD * 2 + column * (NODE_W + GAP_X) - GAP_X, height: PAD * 2 + (depthMax + 1) * (NODE_H + GAP_Y) - GAP_Y };
};

const rangeLabel = (n: TreeNode): string => (n.parentId === null ? 'root' : `${money(n.range.start)} – ${money(n.range.end)}`);

const GapBox = ({ p, gap }: { p: Placed; gap: Gap }) => (
  <g class="tree-node tree-hidden" transform={`translate(${p.x},${p.y})`} data-hidden-part={gap.parentId} data-amount={String(gap.end - gap.start)}>
    <title>{`${TEXT.hiddenBox}: ${money(gap.end - gap.start)}`}</title>
    <rect width={NODE_W} height={NODE_H} rx={8} />
    <text x={10} y={20} class="tree-amount">
      {money(gap.end - gap.start)}
    </text>
    <text x={10} y={38} class="tree-owner">
      {TEXT.hiddenBox}
    </text>
    <text x={10} y={55} class="tree-range">
      {`${money(gap.start)} – ${money(gap.end)}`}
    </text>
  </g>
);

const Node = ({ p, current }: { p: Placed; current: string }) => {
  if (p.item.kind === 'gap') return <GapBox p={p} gap={p.item.gap} />;
  const n = p.item.node;
  const owner =
    n.status === 'offered'
      ? `${n.holder} → ${n.offeredTo ?? '?'}`
      : n.status === 'pledged'
        ? `${n.holder} ⟶ ${n.pledge?.bank ?? '?'}`
        : n.status === 'settled'
          ? `paid to ${n.settlement?.payee ?? '?'}`
          : n.holder;
  return (
    <g
      class={`tree-node tree-${n.status} ${n.id === current ? 'tree-current' : ''}`}
      transform={`translate(${p.x},${p.y})`}
      data-tree-node={n.id}
      data-status={n.status}
      role="link"
      tabIndex={0}
      onClick={() => navigate(voucherPath(n.id))}
      onKeyDown={(e: KeyboardEvent) => {
        if (e.key === 'Enter') navigate(voucherPath(n.id));
      }}
    >
      <title>{`${n.id}\n${money(n.amount, n.currency)} · ${n.status} · holder ${n.holder}`}</title>
      <rect width={NODE_W} height={NODE_H} rx={8} />
      <text x={10} y={20} class="tree-amount">
        {money(n.amount, n.currency)}
      </text>
      <text x={NODE_W - 10} y={20} class="tree-status" text-anchor="end">
        {n.status}
      </text>
      <text x={10} y={38} class="tree-owner">
        {owner.length > 26 ? `${owner.slice(0, 25)}…` : owner}
      </text>
      <text x={10} y={55} class="tree-range">
        {rangeLabel(n).length > 28 ? `${rangeLabel(n).slice(0, 27)}…` : rangeLabel(n)}
      </text>
    </g>
  );
};

const Edges = ({ p }: { p: Placed }) => (
  <>
    {p.children.map((c) => {
      const x1 = p.x + NODE_W / 2;
      const y1 = p.y + NODE_H;
      const x2 = c.x + NODE_W / 2;
      const y2 = c.y;
      const mid = (y1 + y2) / 2;
      return <path class="tree-edge" d={`M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`} />;
    })}
    {p.children.map((c) => (
      <Edges p={c} />
    ))}
  </>
);

const Nodes = ({ p, current }: { p: Placed; current: string }) => (
  <>
    <Node p={p} current={current} />
    {p.children.map((c) => (
      <Nodes p={c} current={current} />
    ))}
  </>
);

export const SplitTree = ({ root, current }: { root: TreeNode; current: string }) => {
  const { placed, width, height } = layout(root);
  const hidden = hiddenParts(root);
  return (
    <>
      {hidden.length > 0 ? (
        <ul class="tree-hidden-list" data-testid="tree-hidden">
          {hidden.map(({ node, gaps }) => (
            <li data-hidden-for={node.id}>
              <code title={node.id}>{node.id.includes(':') ? node.id.slice(node.id.indexOf(':')) : `${node.id.slice(0, 9)}…`}</code>{' '}
              {TEXT.hidden(gaps.length, money(gaps.reduce((a, g) => a + (g.end - g.start), 0n)))}
            </li>
          ))}
        </ul>
      ) : null}
      <div class="tree-scroll">
        <svg
          class="tree"
          width={width}
          height={height}
          viewBox={`0 0 ${width} ${height}`}
          role="img"
          aria-label="Split tree of the voucher"
          data-testid="split-tree"
        >
          <Edges p={placed} />
          <Nodes p={placed} current={current} />
        </svg>
      </div>
    </>
  );
};

export const TreeLegend = () => (
  <div class="legend">
    {VOUCHER_STATUSES.map((s) => (
      <span class={`legend-item tree-${s}`}>
        <span class="legend-swatch" /> {s}
      </span>
    ))}
  </div>
);
