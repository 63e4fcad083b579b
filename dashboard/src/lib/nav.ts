// The header's pages, in order. Add a page here when its .astro file exists.
export interface NavItem {
  href: string;
  label: string;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { href: "/", label: "Runs" },
  { href: "/inspect", label: "Inspect" },
  { href: "/codebook", label: "Codebook" },
  { href: "/history", label: "History" },
  { href: "/model", label: "Model" },
];

/** Whether `href` is the current page (or a section under it). */
export function isActive(href: string, pathname: string): boolean {
  const path = pathname.replace(/\/+$/, "") || "/";
  return href === "/" ? path === "/" : path === href || path.startsWith(`${href}/`);
}
