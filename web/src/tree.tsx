/**
 * A voucher's split tree (`GET /v1/vouchers/:id/tree`) drawn as an SVG: the root on top, each
 * split's children below it in range order, every node coloured by status, the voucher being
 * viewed outlined. Leaves take one column each and a parent sits over the middle of its children.
 */
import type { TreeNode } from '../../src/client/index.js';
import { navigate, voucherPath } from './state.js';
import { yuan } from './ui.js';

const NODE_W = 176;
const NODE_H = 64;
const GAP_X = 14;
const GAP_Y = 44;
const PAD = 8;

interface Placed {
  readonly node: TreeNode;
  readonly x: number;
  readonly y: number;
  readonly children: readonly Placed[];
}

/** Lays out the tree: leaves left to right, parents centred over their children. */
const layout = (root: TreeNode): { placed: Placed; width: number; height: number } => {
  let column = 0;
  let depthMax = 0;
  const place = (n: TreeNode, depth: number): Placed => {
    depthMax = Math.max(depthMax, depth);
    const y = PAD + depth * (NODE_H + GAP_Y);
    if (n.children.length === 0) {
      const x = PAD + column * (NODE_W + GAP_X);
      column += 1;
      return { node: n, x, y, children: [] };
    }
    const children = n.children.map((c) => place(c, depth + 1));
    const x = (children[0]!.x + children[children.length - 1]!.x) / 2;
    return { node: n, x, y, children };
  };
  const placed = place(root, 0);
  return { placed, width: PAD * 2 + column * (NODE_W + GAP_X) - GAP_X, height: PAD * 2 + (depthMax + 1) * (NODE_H + GAP_Y) - GAP_Y };
};

const rangeLabel = (n: TreeNode): string => (n.parentId === null ? 'root' : `${yuan(n.range.start)} – ${yuan(n.range.end)}`);

const Node = ({ p, current }: { p: Placed; current: string }) => {
  const n = p.node;
  const owner = n.status === 'offered' ? `${n.holder} → ${n.offeredTo ?? '?'}` : n.status === 'pledged' ? `${n.holder} ⟶ ${n.pledge?.bank ?? '?'}` : n.status === 'settled' ? `paid to ${n.settlement?.payee ?? '?'}` : n.holder;
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
      <title>{`${n.id}\n${yuan(n.amount)} · ${n.status} · holder ${n.holder}`}</title>
      <rect width={NODE_W} height={NODE_H} rx={8} />
      <text x={10} y={20} class="tree-amount">
        {yuan(n.amount)}
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
  return (
    <div class="tree-scroll">
      <svg class="tree" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Split tree of the voucher" data-testid="split-tree">
        <Edges p={placed} />
        <Nodes p={placed} current={current} />
      </svg>
    </div>
  );
};

export const TreeLegend = () => (
  <div class="legend">
    {(['offered', 'active', 'pledged', 'split', 'settled', 'cancelled'] as const).map((s) => (
      <span class={`legend-item tree-${s}`}>
        <span class="legend-swatch" /> {s}
      </span>
    ))}
  </div>
);
