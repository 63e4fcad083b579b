import { useStore } from "@nanostores/react";
import { memo, useMemo } from "react";

import { $darkScheme } from "../../lib/color-scheme-store";
import { $focusedFeature, $focusExpanded, focusFeature, setFocusExpanded, stepFocus } from "../../lib/feature-focus-store";
import { formatValue } from "../../lib/format";
import { QUANTITY_NAMES, UPDATE_COSINE_LABEL } from "../../lib/quantities";
import { KEY_META, StepTensorKey, type StepTensorKey as Key } from "../../lib/generated/tensor-keys";
import type { StepFrame } from "../../lib/tensor-frame";
import { formatFixed3 } from "../../lib/views/axes";
import { domainFor, finiteRange, lutFor, mapFor, paintValues } from "../../lib/views/colour";
import { CLASS_KEY, classify, discoverColumns } from "../../lib/views/columns";
import { AGREE_ABOVE, countForceRelations, forceRelation } from "../../lib/views/forces";
import { rowCosine, rowNorm } from "../../lib/views/matrix";
import { deferredSpec, useTensorRow } from "../../lib/views/step-tensors";
import { squareSide } from "../../lib/views/tiles";
import { usePaintedCanvas } from "./parts";

const K = StepTensorKey;

/** The feature's weight and the three updates of the step (the force view). */
const PICTURES: readonly { key: Key; label: string }[] = [
  { key: K.ENCODER_WEIGHTS, label: QUANTITY_NAMES.encoder_weights.label },
  { key: K.OPT_DELTA, label: QUANTITY_NAMES.opt_delta.label },
  { key: K.SOM_DELTA, label: QUANTITY_NAMES.som_delta.label },
  { key: K.COMBINED_DELTA, label: QUANTITY_NAMES.combined_delta.label },
];
/** The two directions whose cosine says whether the forces agree. */
const GRADIENT = K.OPT_DELTA;
const SOM = K.SOM_DELTA;

/** Per-feature values listed under the pictures: the [D] columns of the metrics table. */
const FACTS = discoverColumns().filter((c) => c.reduce === "value");

const VERDICTS = { agree: "the forces agree", fight: "the forces fight", orthogonal: "nearly orthogonal" } as const;

function verdict(cos: number): { text: string; tone: string } {
  const relation = forceRelation(cos);
  return relation ? { text: VERDICTS[relation], tone: relation } : { text: "undefined", tone: "bad" };
}

/**
 * The focused feature: its weight, what the optimizer (gradient), the SOM and the two together did
 * to it this step as 28×28 pictures, the cosine between the gradient and SOM directions, its
 * metrics and its neighbours.
 */
function FeatureFocus({ frame }: { frame: StepFrame }) {
  const focused = useStore($focusedFeature, { ssr: "initial" });
  const expanded = useStore($focusExpanded, { ssr: "initial" });
  const weights = frame.tensors[K.ENCODER_WEIGHTS];
  const d = weights?.shape[0] ?? deferredSpec(frame, K.ENCODER_WEIGHTS)?.shape[0] ?? frame.tensors[CLASS_KEY]?.shape[0] ?? 0;
  const feature = focused !== null && focused < d ? focused : null;

  // Over every feature: how many have the gradient and SOM updates agreeing or fighting (only
  // when the frame holds both whole).
  const counts = useMemo(() => {
    const a = frame.tensors[GRADIENT];
    const b = frame.tensors[SOM];
    return a && b ? countForceRelations(a.data, b.data, a.shape[0], a.shape[1]) : null;
  }, [frame]);

  // The focused feature's rows: from the frame, or read on their own when it left them out.
  const gradient = useTensorRow(frame, GRADIENT, feature);
  const som = useTensorRow(frame, SOM, feature);
  const cosine = useMemo(() => {
    const a = gradient.row;
    const b = som.row;
    if (!a || !b || a.length !== b.length) return null;
    return rowCosine(a, b, 0, a.length);
  }, [gradient.row, som.row]);
  const loading = gradient.status === "loading" || som.status === "loading";

  // Nothing to dock: the features card says how to pick one.
  if (feature === null) return null;

  const winRate = frame.tensors[CLASS_KEY]?.data[feature];
  const cls = winRate === undefined ? null : classify(winRate);
  const neighbours = frame.tensors[K.NEIGHBORS];
  const nbrs = neighbours ? Array.from(neighbours.data.subarray(feature * neighbours.shape[1], (feature + 1) * neighbours.shape[1])) : null;
  const tone = cosine === null ? null : verdict(cosine);

  return (
    <aside className="focus-dock" data-view="feature-focus" data-step={frame.step} data-testid="feature-focus" data-feature={feature} aria-label={`Feature ${feature} in focus`}>
      <div className={expanded ? "focus-card" : "focus-card collapsed"}>
        <header className="focus-head">
          <h3>
            Feature <span className="mono" data-testid="focus-feature">{feature}</span>
          </h3>
          {cls && <span className={`mt-chip ${cls}`}>{cls}</span>}
          {!expanded && cosine !== null && (
            <span className={`focus-summary ${tone?.tone ?? ""}`}>
              {UPDATE_COSINE_LABEL} <span className="mono">{formatFixed3(cosine)}</span>
              <span className="focus-summary-verdict">{tone?.text}</span>
            </span>
          )}
          <span className="focus-nav">
            <button
              type="button"
              className="btn btn-icon focus-collapse"
              aria-label={expanded ? "Collapse to one line" : "Show the pictures"}
              title={expanded ? "Collapse to one line" : "Show the pictures"}
              aria-expanded={expanded}
              data-testid="focus-collapse"
              onClick={() => setFocusExpanded(!expanded)}
            >
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path d="M6 8l4 4 4-4" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
              </svg>
            </button>
            <button type="button" className="btn btn-icon" aria-label="Previous feature" title="Previous feature" onClick={() => stepFocus(-1, d)}>
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path d="M12 5l-5 5 5 5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
              </svg>
            </button>
            <button type="button" className="btn btn-icon" aria-label="Next feature" title="Next feature" onClick={() => stepFocus(1, d)}>
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path d="M8 5l5 5-5 5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
              </svg>
            </button>
            <button type="button" className="btn btn-icon" aria-label="Clear focus" title="Clear focus" data-testid="focus-clear" onClick={() => focusFeature(null)}>
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path d="M5.5 5.5l9 9M14.5 5.5l-9 9" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
              </svg>
            </button>
          </span>
        </header>

        {expanded && (
          <div className="focus-main">
            <div className="focus-pictures">
              {PICTURES.map(({ key, label }) => (
                <FocusPicture key={key} frame={frame} tensorKey={key} label={label} feature={feature} />
              ))}
            </div>

            <div className="focus-side">
              <div className={`focus-cos ${tone?.tone ?? "absent"}`} data-testid="focus-cosine" data-value={cosine ?? ""}>
                <span className="focus-cos-label">
                  {UPDATE_COSINE_LABEL}: the cosine of the rows of <span className="mono">{GRADIENT}</span> and <span className="mono">{SOM}</span>
                </span>
                {cosine === null ? (
                  <span className="muted" data-testid={loading ? "focus-cosine-loading" : undefined}>
                    {loading ? `loading the rows of ${GRADIENT} and ${SOM}…` : `${SOM} is not captured in this condition`}
                  </span>
                ) : (
                  <span className="focus-cos-row">
                    <span className="focus-cos-value mono">{formatFixed3(cosine)}</span>
                    <span className="focus-cos-gauge" aria-hidden="true">
                      <span className="focus-cos-zero" />
                      {Number.isFinite(cosine) && (
                        <span
                          className="focus-cos-fill"
                          style={cosine >= 0 ? { left: "50%", width: `${cosine * 50}%` } : { right: "50%", width: `${-cosine * 50}%` }}
                        />
                      )}
                      <span className="focus-cos-ticks">
                        <span>−1</span>
                        <span>0</span>
                        <span>1</span>
                      </span>
                    </span>
                    <span className="focus-cos-verdict">{tone?.text}</span>
                  </span>
                )}
                {counts && (
                  <span className="focus-cos-counts" data-testid="focus-force-counts">
                    over all {d} features: <strong className="agree">{counts.agree}</strong> agree ·{" "}
                    <strong className="fight">{counts.fight}</strong> fight · <strong>{counts.orthogonal}</strong> nearly
                    orthogonal (|cos| ≤ {AGREE_ABOVE})
                  </span>
                )}
              </div>

              <dl className="focus-facts">
                {FACTS.filter((c) => frame.tensors[c.key]).map((c) => {
                  const v = frame.tensors[c.key]!.data[feature];
                  return (
                    <div key={c.key} title={c.meta.description}>
                      <dt className="mono">{c.key}</dt>
                      <dd className="mono" data-key={c.key} data-value={v}>
                        {formatValue(v)}
                      </dd>
                    </div>
                  );
                })}
              </dl>

              {nbrs && (
                <div className="focus-nbrs">
                  <span className="focus-nbrs-label">neighbours</span>
                  {nbrs.map((g) => (
                    <button key={g} type="button" className="focus-nbr mono" onClick={() => focusFeature(g)} title={`Focus feature ${g}`}>
                      {g}
                    </button>
                  ))}
                </div>
              )}
            </div>
          </div>
        )}
      </div>
    </aside>
  );
}

const FocusPicture = memo(function FocusPicture(props: { frame: StepFrame; tensorKey: Key; label: string; feature: number }) {
  const { feature } = props;
  const dark = useStore($darkScheme, { ssr: "initial" });
  const read = useTensorRow(props.frame, props.tensorKey, feature);
  const pixels = read.row?.length ?? 0;
  const side = squareSide(pixels) ?? 0;
  const row = side ? read.row : null;
  const scale = KEY_META[props.tensorKey].scale;
  const range = useMemo(() => (row ? finiteRange(row) : null), [row]);
  const domain = useMemo(() => (range ? domainFor(scale, range) : { lo: -1, hi: 1 }), [range, scale]);
  const lut = lutFor(mapFor(scale, "image"), dark);
  const ref = usePaintedCanvas(row ? side : 0, row ? side : 0, (out) => row && paintValues(row, out, lut, domain), [row, lut, domain]);
  const norm = row ? rowNorm(row, 0, pixels) : NaN;

  return (
    <figure className="focus-pic" data-key={props.tensorKey}>
      <figcaption>
        <span className="focus-pic-label">{props.label}</span>
        <span className="mono focus-pic-key">{props.tensorKey}</span>
      </figcaption>
      {row ? (
        <>
          <canvas ref={ref} className="focus-canvas" data-testid="focus-picture" data-key={props.tensorKey} role="img" aria-label={`${props.tensorKey} of feature ${feature}`} />
          <span className="focus-pic-meta mono">
            <span title="The colour range of this picture">
              range {scale === "signed" ? `±${formatValue(domain.hi)}` : `${formatValue(domain.lo)}–${formatValue(domain.hi)}`}
            </span>
            <span title="Euclidean norm of the row">norm {formatValue(norm)}</span>
          </span>
          {range && range.nonfinite > 0 && <span className="focus-pic-nan">{range.nonfinite} NaN/Inf</span>}
        </>
      ) : read.status === "loading" ? (
        <div className="focus-pic-missing" data-testid="focus-picture-loading" role="status">
          loading…
        </div>
      ) : (
        <div className="focus-pic-missing">{read.status === "error" ? "could not be read" : "not captured in this condition"}</div>
      )}
    </figure>
  );
});

export default memo(FeatureFocus);
