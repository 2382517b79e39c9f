// What a site name may be: the kernel's rule (ofsim_init), a NUL-terminated
// name in OPTIFIBER_SITE_NAME_LEN bytes. The configuration, the API and the
// control path all check names with this one pattern.
import { OPTIFIBER_SITE_NAME_LEN } from './layout.js';

export const SITE_NAME_RE = new RegExp(`^[A-Za-z0-9_.-]{1,${OPTIFIBER_SITE_NAME_LEN - 1}}$`);
/** The rule in words, for error messages. */
export const SITE_NAME_RULE = `1..${OPTIFIBER_SITE_NAME_LEN - 1} chars of A-Z a-z 0-9 _ . -`;
