/**
 * The start banner of the real compiled service (main.js, spawned on a free port): Chinese first,
 * then English; the web console's URL, which really answers the console; and the entry count
 * with a correct plural and thousands separators.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { entriesText } from '../../src/server.js';
import { Client, key, operatorKey } from '../e2e/client.js';
import { cleanup, startServer } from '../e2e/server.js';

describe('the start banner', () => {
  afterAll(cleanup);

  it('entriesText: 1 entry, 2 entries, 12,345 entries', () => {
    expect(entriesText(0)).toBe('0 entries');
    expect(entriesText(1)).toBe('1 entry');
    expect(entriesText(2)).toBe('2 entries');
    expect(entriesText(1000)).toBe('1,000 entries');
    expect(entriesText(12_345)).toBe('12,345 entries');
  });

  it('first start: bilingual, the console URL (serving the console) and "1 entry"; a restart counts the entries', async () => {
    const first = await startServer();
    const out = first.stdout();
    const lines = out.split('\n');
    expect(lines[0]).toBe(`账本服务已启动 rvl ledger service listening on ${first.url}`);
    const consoleLine = lines.find((l) => l.includes('console'));
    expect(consoleLine).toMatch(new RegExp(`^  控制台 console\\s+${first.url.replace(/[.]/g, '\\.')}/$`));
    const page = await fetch(`${first.url}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<div id="app"|<script type="module"/);
    expect(out).toMatch(/账本 ledger\s+e2e · 1 条记录 1 entry · /);
    expect(out).not.toContain('1 entries');
    // Every label: Chinese, then English.
    for (const label of ['控制台 console', '账本编号 ledger id', '账本 ledger', '接口文档 API docs', '运营方 operator', '节点密钥 node key']) {
      expect(out).toContain(`  ${label} `);
    }

    const c = await Client.connect(first.url);
    const operator = await operatorKey(first.dataDir);
    await c.register(operator, key('gz-motors', 'core'));
    await first.stop();

    const second = await startServer({ dataDir: first.dataDir });
    expect(second.stdout()).toMatch(/账本 ledger\s+e2e · 2 条记录 2 entries · /);
    expect(second.stdout()).toMatch(/运营方 operator\s+按创世登记 as registered at genesis/);
    await second.stop();
  });
});
