// Whether the gradient and the SOM push a feature the same way: the cosine between the rows of the
// optimizer's update (opt_delta) and the SOM's (som_delta), per feature and over all of them.
import { rowCosine } from "./matrix";

/** Above this cosine the two updates agree, below its negative they fight. */
export const AGREE_ABOVE = 0.2;

export type ForceRelation = "agree" | "fight" | "orthogonal";

export function forceRelation(cos: number): ForceRelation | null {
  if (!Number.isFinite(cos)) return null;
  return cos > AGREE_ABOVE ? "agree" : cos < -AGREE_ABOVE ? "fight" : "orthogonal";
}

export interface ForceCounts {
  agree: number;
  fight: number;
  orthogonal: number;
  /** Features whose cosine is not a number (a non-finite update). */
  undefined: number;
}

/** How many of the `rows` features have their two updates agreeing, fighting or orthogonal. */
export function countForceRelations(gradient: ArrayLike<number>, som: ArrayLike<number>, rows: number, width: number): ForceCounts {
  const counts: ForceCounts = { agree: 0, fight: 0, orthogonal: 0, undefined: 0 };
  for (let r = 0; r < rows; r++) counts[forceRelation(rowCosine(gradient, som, r, width)) ?? "undefined"]++;
  return counts;
}
