// A shared wall clock for "3 s ago" labels: one timer for every island that shows one.
import { atom, onMount } from "nanostores";

export const $now = atom<number>(Date.now());

onMount($now, () => {
  if (typeof window === "undefined") return; // no timers during the build-time render
  $now.set(Date.now());
  const timer = setInterval(() => $now.set(Date.now()), 1_000);
  return () => clearInterval(timer);
});
