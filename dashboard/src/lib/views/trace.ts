// The algorithm trace, as data: nine sections in the order BCL computes them (docs/bcl.md), each
// with the keys it shows. How a key is drawn comes from its metadata (`KEY_META[key].render`).
import { StepTensorKey, type StepTensorKey as Key } from "../generated/tensor-keys";

export interface TraceSection {
  /** 1..9, the order on the page. */
  n: number;
  /** Stable id (data-testid `trace-section-<id>`). */
  id: string;
  title: string;
  /** The question the section answers, shown under its title. */
  question: string;
  /** Keys drawn side by side, in this order. */
  keys: readonly Key[];
}

const K = StepTensorKey;

export const TRACE_SECTIONS: readonly TraceSection[] = [
  {
    n: 1,
    id: "strength",
    title: "Strength",
    question: "Which features light up on which images? Uniform here means the features are clones from the start.",
    keys: [K.STRENGTH],
  },
  {
    n: 2,
    id: "neighbourhoods",
    title: "Neighbourhoods",
    question: "Each feature (left) and its k most similar features. Do all neighbourhoods look alike?",
    keys: [K.NEIGHBORS, K.ENCODER_WEIGHTS],
  },
  {
    n: 3,
    id: "rank-score",
    title: "Rank score",
    question: "Where does each feature beat its neighbourhood? Did the competition sharpen strength or flatten it?",
    keys: [K.RANK_SCORE],
  },
  {
    n: 4,
    id: "image-coverage",
    title: "Image coverage",
    question: "How many features claim each image: which images are crowded, which underserved?",
    keys: [K.IMAGE_COVERAGE, K.IMAGE_NEED],
  },
  {
    n: 5,
    id: "feature-novelty",
    title: "Feature novelty",
    question: "How unique each feature's wins are, beside how often it wins. Uniform coverage makes novelty blind.",
    keys: [K.FEATURE_NOVELTY, K.WIN_RATE],
  },
  {
    n: 6,
    id: "local-coverage",
    title: "Local coverage and novelty",
    question: "Per image and feature, how many neighbours also won, and whether the feature neighbours the winner.",
    keys: [K.LOCAL_COVERAGE, K.LOCAL_NOVELTY, K.IN_NBR],
  },
  {
    n: 7,
    id: "som-targets",
    title: "SOM targets",
    question: "Where the SOM pulls each feature. If all global targets look the same, it pulls everyone to one place.",
    keys: [K.LOCAL_TARGET, K.GLOBAL_TARGET, K.SOM_TARGETS],
  },
  {
    n: 8,
    id: "blending",
    title: "Blending weights",
    question: "Who gets which force: the gradient, the local pull of contenders, the global pull of the rest.",
    keys: [K.GRADIENT_WEIGHT, K.CONTENDER_WEIGHT, K.ATTRACTION_WEIGHT],
  },
  {
    n: 9,
    id: "final-forces",
    title: "Final forces",
    question: "What gradient actually flows (the mask), and the target and update the SOM applies to each feature.",
    keys: [K.GRAD_MASK, K.SOM_TARGETS, K.SOM_DELTA],
  },
];
