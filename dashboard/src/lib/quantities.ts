// One name per quantity, wherever the dashboard shows it (the runs page's scatter, detail and
// trajectories; the inspector's feature focus): the gradient is not the optimizer's update, and
// the SOM's update is neither. `label` is what a heading or axis says, `title` the hover text; the
// trainer's key stays visible beside it where there is room.

export interface QuantityName {
  label: string;
  title: string;
}

export const QUANTITY_NAMES = {
  encoder_weights: {
    label: "weight w",
    title: "The feature's encoder weights at forward time (encoder_weights)",
  },
  grad_magnitude: {
    label: "gradient ‖∇w‖",
    title: "Norm of the feature's masked weight gradient, what the optimizer is given (grad_magnitude = ‖grad_masked‖₂)",
  },
  som_magnitude: {
    label: "SOM update ‖Δw‖",
    title: "Norm of the SOM update applied to the feature's weights this step (som_magnitude = ‖som_delta‖₂)",
  },
  opt_delta: {
    label: "optimizer update Δw",
    title: "What the optimizer (Adam, fed the gradient) changed this step: W_post − (W + SOM update) (opt_delta)",
  },
  som_delta: {
    label: "SOM update Δw",
    title: "The SOM pull applied in place this step: η · som_weight_d · (target − W) (som_delta)",
  },
  combined_delta: {
    label: "whole update Δw",
    title: "The whole update of the step: optimizer update + SOM update = W_post − W (combined_delta)",
  },
} as const satisfies Record<string, QuantityName>;

/** "cos(optimizer update, SOM update)": whether the two updates of a feature point the same way. */
export const UPDATE_COSINE_LABEL = `cos(${QUANTITY_NAMES.opt_delta.label.replace(" Δw", "")}, ${QUANTITY_NAMES.som_delta.label.replace(" Δw", "")})`;
