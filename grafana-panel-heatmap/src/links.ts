// The site data link. ${site} is replaced (URL-encoded) here; anything else
// (${__url_time_range}, dashboard variables) by Grafana's replaceVariables.
// The result then goes through Grafana's own helpers, as Grafana's data
// links do: textUtil.sanitizeUrl refuses javascript:, data: and the like (a
// dashboard editor must not be able to run script in Grafana's origin), and
// locationUtil adds Grafana's sub-path (root_url /grafana/) to its own paths.
import { locationUtil, textUtil } from '@grafana/data';

export interface SiteLink {
  /** For <a href>: sanitised, with the sub-path on Grafana paths; undefined = refused, render no link. */
  href?: string;
  /** A Grafana path for locationService.push (without the sub-path); undefined = an external link. */
  internal?: string;
}

export function expandSiteUrl(template: string, site: string, replaceVariables?: (s: string) => string): string {
  const withSite = template.split('${site}').join(encodeURIComponent(site)).split('$site').join(encodeURIComponent(site));
  return (replaceVariables ? replaceVariables(withSite) : withSite).trim();
}

export function siteLink(template: string, site: string, replaceVariables?: (s: string) => string): SiteLink {
  const raw = expandSiteUrl(template, site, replaceVariables);
  if (!raw) return {};
  const safe = textUtil.sanitizeUrl(raw);
  if (safe === 'about:blank') return {};
  // "//host/x" is protocol-relative: another origin, not a Grafana path
  if (safe.startsWith('/') && !safe.startsWith('//')) {
    const internal = locationUtil.stripBaseFromUrl(safe);
    return { href: locationUtil.assureBaseUrl(internal), internal };
  }
  return { href: safe };
}
