// HTML -> PDF with Debian's Chromium through playwright-core (no bundled
// browser download): A4, footer with page numbers, written atomically.
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportError } from './prom.js';
import { AtomicFile } from './util.js';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface PdfOptions {
  html: string;
  out: string;
  title: string;
  chromium?: string;
  timeoutMs?: number;
}

export async function htmlToPdf(o: PdfOptions): Promise<string> {
  const exe = o.chromium ?? process.env['OPTIFIBER_CHROMIUM'] ?? DEFAULT_CHROMIUM;
  if (!existsSync(exe)) throw new ReportError(`Chromium not found at ${exe}: install it (apt-get install -y chromium fonts-dejavu-core) or pass --chromium PATH`);
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'optifiber-report-chromium-'));
  const file = new AtomicFile(o.out);
  let browser;
  try {
    // a fresh profile per run (playwright passes it as --user-data-dir)
    browser = await chromium.launchPersistentContext(profile, { executablePath: exe, headless: true, args: ARGS, timeout: o.timeoutMs ?? 60000 });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.setContent(o.html, { waitUntil: 'load', timeout: o.timeoutMs ?? 60000 });
    await page.evaluate('document.fonts.ready.then(() => true)');
    const esc = o.title.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    const buf = await page.pdf({
      format: 'A4',
      printBackground: true,
      preferCSSPageSize: true,
      displayHeaderFooter: true,
      headerTemplate: '<span></span>',
      footerTemplate: `<div style="font-family:'DejaVu Sans';font-size:7.5pt;color:#666;width:100%;padding:0 14mm;display:flex;justify-content:space-between"><span>${esc}</span><span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`,
    });
    writeFileSync(file.tmp, buf);
    await file.commit();
    return file.path;
  } catch (e) {
    file.abort();
    if (e instanceof ReportError) throw e;
    throw new ReportError(`rendering the PDF with ${exe} failed: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    await browser?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}
