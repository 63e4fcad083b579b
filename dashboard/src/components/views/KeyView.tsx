import { useStore } from "@nanostores/react";
import { useMemo } from "react";

import { $focusedFeature, toggleFeature } from "../../lib/feature-focus-store";
import { KEY_META, StepTensorKey, type StepTensorKey as Key } from "../../lib/generated/tensor-keys";
import type { StepFrame } from "../../lib/tensor-frame";
import { axisName, isFeatureAxis } from "../../lib/views/axes";
import { deferredSpec } from "../../lib/views/step-tensors";
import BarChart from "./BarChart";
import GridHeatmap from "./GridHeatmap";
import Heatmap from "./Heatmap";
import Neighbourhoods from "./Neighbourhoods";
import PagedWeightGrid from "./PagedWeightGrid";
import { Missing } from "./parts";
import WeightGrid from "./WeightGrid";

export interface KeyViewProps {
  frame: StepFrame;
  tensorKey: Key;
  /** Outline the focused feature's neighbours too (weight grids). */
  markNeighbours?: boolean;
  /** Heatmaps only: rows and columns in this order. */
  order?: Int32Array | null;
  maxWidth?: number;
  barHeight?: number;
  /** Where the view sits (a trace section's id): part of its test ids, as a key can be drawn twice. */
  place?: string;
}

/** A key of the step drawn the way its metadata says (`KEY_META[key].render`). */
export default function KeyView(props: KeyViewProps) {
  const { frame, tensorKey } = props;
  const focused = useStore($focusedFeature, { ssr: "initial" });
  const meta = KEY_META[tensorKey];
  const tensor = frame.tensors[tensorKey];
  const neighbours = frame.tensors[StepTensorKey.NEIGHBORS];

  const marked = useMemo(() => {
    if (!props.markNeighbours || focused === null || !neighbours) return null;
    const [d, k] = neighbours.shape;
    if (focused >= d) return null;
    return Array.from(neighbours.data.subarray(focused * k, (focused + 1) * k));
  }, [props.markNeighbours, focused, neighbours]);

  const deferred = meta && !tensor ? deferredSpec(frame, tensorKey) : null;
  if (deferred && deferred.shape.length === 2 && meta.shape.length === 2) {
    // Over the frame's byte budget: read at the size the view draws it.
    const shape = [deferred.shape[0], deferred.shape[1]] as const;
    if (meta.render === "heatmap") {
      return (
        <GridHeatmap
          frame={frame}
          tensorKey={tensorKey}
          place={props.place}
          shape={shape}
          scale={meta.scale}
          rowName={axisName(meta.shape[0])}
          colName={axisName(meta.shape[1])}
          rowIsFeature={isFeatureAxis(meta, 0)}
          colIsFeature={isFeatureAxis(meta, 1)}
          focused={focused}
          onSelectFeature={toggleFeature}
          description={meta.description}
          maxWidth={props.maxWidth}
        />
      );
    }
    if (meta.render === "weight_grid") {
      return (
        <PagedWeightGrid
          frame={frame}
          tensorKey={tensorKey}
          place={props.place}
          shape={shape}
          scale={meta.scale}
          focused={focused}
          marked={marked}
          onSelectFeature={toggleFeature}
          description={meta.description}
          maxWidth={props.maxWidth}
        />
      );
    }
  }
  if (!meta || !tensor) return <Missing tensorKey={tensorKey} condition={frame.header.condition} step={frame.step} place={props.place} />;
  if (tensor.shape.length !== meta.shape.length) {
    return (
      <div className="view-missing" data-view="missing" data-step={frame.step}>
        <span className="mono">{tensorKey}</span>
        <span>
          has shape [{tensor.shape.join(", ")}], expected [{meta.shape.join(", ")}]
        </span>
      </div>
    );
  }

  switch (meta.render) {
    case "heatmap": {
      const [rows, cols] = tensor.shape;
      return (
        <Heatmap
          tensorKey={tensorKey}
          place={props.place}
          step={frame.step}
          data={tensor.data}
          rows={rows}
          cols={cols}
          scale={meta.scale}
          rowName={axisName(meta.shape[0])}
          colName={axisName(meta.shape[1])}
          rowIsFeature={isFeatureAxis(meta, 0)}
          colIsFeature={isFeatureAxis(meta, 1)}
          order={props.order}
          focused={focused}
          onSelectFeature={toggleFeature}
          description={meta.description}
          maxWidth={props.maxWidth}
        />
      );
    }
    case "bar_chart":
      return (
        <BarChart
          tensorKey={tensorKey}
          place={props.place}
          step={frame.step}
          values={tensor.data}
          indexName={axisName(meta.shape[0])}
          isFeature={isFeatureAxis(meta, 0)}
          focused={focused}
          onSelectFeature={toggleFeature}
          description={meta.description}
          height={props.barHeight}
        />
      );
    case "weight_grid":
      return (
        <WeightGrid
          tensorKey={tensorKey}
          place={props.place}
          step={frame.step}
          data={tensor.data}
          rows={tensor.shape[0]}
          pixels={tensor.shape[1]}
          scale={meta.scale}
          focused={focused}
          marked={marked}
          onSelectFeature={toggleFeature}
          description={meta.description}
          maxWidth={props.maxWidth}
        />
      );
    case "index_table": {
      const weightsKey = StepTensorKey.ENCODER_WEIGHTS;
      return (
        <Neighbourhoods
          tensorKey={tensorKey}
          place={props.place}
          step={frame.step}
          neighbors={tensor}
          weights={frame.tensors[weightsKey] ?? null}
          weightsKey={weightsKey}
          weightScale={KEY_META[weightsKey].scale}
          cosine={frame.tensors[StepTensorKey.WEIGHT_COSINE] ?? null}
          focused={focused}
          onSelectFeature={toggleFeature}
          description={meta.description}
        />
      );
    }
    default:
      return null;
  }
}
