// A roving tabindex over the rows of a list (the metrics table, the neighbour table): the list
// is one stop in the tab order, the arrow keys move between its rows, Enter and Space select.
import { type FocusEvent, type KeyboardEvent, type RefObject, useRef, useState } from "react";

import { isActivationKey, listStep } from "./keyboard-nav";

export interface RovingList<T extends HTMLElement> {
  /** On the element that holds the rows (the keys and focus events bubble to it). */
  ref: RefObject<T | null>;
  /** The row in the tab order (tabIndex 0; the others -1); null for an empty list. */
  tabbable: number | null;
  onKeyDown: (event: KeyboardEvent<T>) => void;
  onFocus: (event: FocusEvent<T>) => void;
}

/**
 * Rows are the elements under `ref` with `data-<attr>` set to their key, shown in the order of
 * `keys`. The row in the tab order is the last one focused, else `preferred` (the selected one),
 * else the first. ArrowUp/ArrowDown, PageUp/PageDown and Home/End move the focus (listStep);
 * Enter and Space call `onActivate` with the focused row's key.
 */
export function useRovingList<T extends HTMLElement>(
  keys: readonly number[],
  preferred: number | null,
  onActivate: (key: number) => void,
  attr = "feature",
): RovingList<T> {
  const ref = useRef<T>(null);
  const [active, setActive] = useState<number | null>(null);
  const has = (key: number | null): key is number => key !== null && keys.includes(key);
  const tabbable = has(active) ? active : has(preferred) ? preferred : (keys[0] ?? null);

  const keyOf = (target: EventTarget): number | null => {
    if (!(target instanceof Element) || !ref.current?.contains(target)) return null;
    const value = target.getAttribute(`data-${attr}`);
    return value === null || value === "" ? null : Number(value);
  };

  const onKeyDown = (event: KeyboardEvent<T>) => {
    const key = keyOf(event.target);
    if (key === null || event.altKey || event.ctrlKey || event.metaKey) return;
    if (isActivationKey(event.key)) {
      event.preventDefault();
      onActivate(key);
      return;
    }
    const next = listStep(event.key, keys.indexOf(key), keys.length);
    if (next === null) return;
    event.preventDefault();
    const to = keys[next];
    setActive(to);
    const row = ref.current?.querySelector<HTMLElement>(`[data-${attr}="${to}"]`);
    // Scrolled by hand: scrollIntoView keeps the row's scroll-margin clear of sticky headers.
    row?.focus({ preventScroll: true });
    row?.scrollIntoView({ block: "nearest" });
  };

  const onFocus = (event: FocusEvent<T>) => {
    const key = keyOf(event.target);
    if (key !== null) setActive(key);
  };

  return { ref, tabbable, onKeyDown, onFocus };
}
