// Whether the page is in its dark scheme (global.css swaps its variables on the same media query).
// Canvas views read it to pick their colour tables; it follows the system setting live.
import { atom, onMount } from "nanostores";

/** True while `prefers-color-scheme: dark` matches; false on the server and before mount. */
export const $darkScheme = atom(false);

onMount($darkScheme, () => {
  if (typeof window === "undefined" || !window.matchMedia) return;
  const query = window.matchMedia("(prefers-color-scheme: dark)");
  const update = () => $darkScheme.set(query.matches);
  update();
  query.addEventListener("change", update);
  return () => query.removeEventListener("change", update);
});
