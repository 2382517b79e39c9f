// The site data link: ${site} is replaced (URL-encoded) here; anything else
// (${__url_time_range}, dashboard variables) by Grafana's replaceVariables.
export function siteHref(template: string, site: string, replaceVariables?: (s: string) => string): string {
  const withSite = template.split('${site}').join(encodeURIComponent(site)).split('$site').join(encodeURIComponent(site));
  return replaceVariables ? replaceVariables(withSite) : withSite;
}
