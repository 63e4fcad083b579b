// Reads the binary step frame (architecture.md "Wire format"; the reference decoder is
// `decode_frame` in acc/tensor_wire.py):
//
//   b"ACCF" | u32 LE header length | JSON header (space-padded) | data section
//
// The data section starts 8-byte aligned and every tensor starts on an 8-byte boundary inside it,
// so tensors become typed-array views on the response buffer: no parsing, no copy, NaN and Inf
// kept. Keys the header lists under `derived` are not in the bytes; they are rebuilt here by
// summing their sources in the listed order (as the reference does, in float32). Keys under
// `deferred` did not fit the frame's byte budget: the views read them per tensor, reduced to what
// they draw (lib/views/step-tensors.ts).
import type { StepTensorKey } from "./generated/tensor-keys";
import type { FrameDeferredSpec, FrameDtype, FrameHeader, FrameImageSpec, FrameTensorSpec } from "./inspect-types";

const MAGIC = "ACCF";
const PREFIX_BYTES = 8; // magic + u32 header length

/** A decoded tensor: row-major values and their shape ([] for a scalar). */
export interface FrameTensor {
  dtype: FrameDtype;
  shape: number[];
  data: Float32Array | Int32Array;
  /** True when rebuilt on this side from the keys it is the sum of. */
  derived: boolean;
}

/** An encoded picture from the frame (the batch grid), with how its tiles are laid out. */
export interface FrameImage extends Omit<FrameImageSpec, "offset" | "nbytes"> {
  mime: string;
  /** The encoded file (a view on the frame's buffer). */
  bytes: Uint8Array;
}

/** One step, decoded. */
export interface StepFrame {
  step: number;
  header: FrameHeader;
  tensors: Partial<Record<StepTensorKey, FrameTensor>>;
  images: Partial<Record<StepTensorKey, FrameImage>>;
  /** What the step holds besides: tensors over the frame's byte budget, to be read per view. */
  deferred: Partial<Record<StepTensorKey, FrameDeferredSpec>>;
  /** Size of the frame on the wire. */
  byteLength: number;
}

/** The bytes are not a frame this reader understands. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const IMAGE_MIME: Record<string, string> = { png: "image/png" };

/** Decode a frame; throws `FrameError` on anything malformed. */
export function decodeFrame(buffer: ArrayBuffer): StepFrame {
  if (buffer.byteLength < PREFIX_BYTES) {
    throw new FrameError(`a frame is at least ${PREFIX_BYTES} bytes, got ${buffer.byteLength}`);
  }
  const prefix = new DataView(buffer, 0, PREFIX_BYTES);
  const magic = String.fromCharCode(prefix.getUint8(0), prefix.getUint8(1), prefix.getUint8(2), prefix.getUint8(3));
  if (magic !== MAGIC) throw new FrameError(`not an acc frame: starts with ${JSON.stringify(magic)}, expected "ACCF"`);
  const headerLength = prefix.getUint32(4, true);
  const base = PREFIX_BYTES + headerLength;
  if (base > buffer.byteLength) {
    throw new FrameError(`header of ${headerLength} bytes runs past the end of a ${buffer.byteLength}-byte frame`);
  }
  let header: FrameHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, PREFIX_BYTES, headerLength))) as FrameHeader;
  } catch (err) {
    throw new FrameError(`frame header is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const dataBytes = buffer.byteLength - base;

  const tensors: Partial<Record<StepTensorKey, FrameTensor>> = {};
  for (const [key, spec] of Object.entries(header.tensors ?? {}) as [StepTensorKey, FrameTensorSpec][]) {
    tensors[key] = readTensor(buffer, base, dataBytes, key, spec);
  }
  for (const [key, sources] of header.derived ?? []) {
    tensors[key] = sumOf(key, sources, tensors);
  }

  const images: Partial<Record<StepTensorKey, FrameImage>> = {};
  for (const [key, spec] of Object.entries(header.images ?? {}) as [StepTensorKey, FrameImageSpec][]) {
    checkRange(key, spec.offset, spec.nbytes, dataBytes);
    const { offset, nbytes, ...info } = spec;
    images[key] = {
      ...info,
      mime: IMAGE_MIME[spec.format] ?? "application/octet-stream",
      bytes: new Uint8Array(buffer, base + offset, nbytes),
    };
  }

  const deferred = header.deferred ?? {};
  return { step: header.step, header, tensors, images, deferred, byteLength: buffer.byteLength };
}

function checkRange(key: string, offset: number, nbytes: number, dataBytes: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(nbytes) || offset < 0 || nbytes < 0 || offset + nbytes > dataBytes) {
    throw new FrameError(`${key}: bytes ${offset}..${offset + nbytes} are outside the ${dataBytes}-byte data section`);
  }
}

function readTensor(buffer: ArrayBuffer, base: number, dataBytes: number, key: string, spec: FrameTensorSpec): FrameTensor {
  if (spec.dtype !== "float32" && spec.dtype !== "int32") {
    throw new FrameError(`${key}: unsupported dtype ${JSON.stringify(spec.dtype)}`);
  }
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.nbytes !== count * 4) {
    throw new FrameError(`${key}: shape [${spec.shape.join(", ")}] needs ${count * 4} bytes, header says ${spec.nbytes}`);
  }
  checkRange(key, spec.offset, spec.nbytes, dataBytes);
  const start = base + spec.offset;
  let data: Float32Array | Int32Array;
  if (LITTLE_ENDIAN_HOST && start % 4 === 0) {
    data = spec.dtype === "float32" ? new Float32Array(buffer, start, count) : new Int32Array(buffer, start, count);
  } else {
    // Big-endian host or a misaligned writer: read value by value (slow path, never taken by acc).
    const view = new DataView(buffer, start, spec.nbytes);
    data = spec.dtype === "float32" ? new Float32Array(count) : new Int32Array(count);
    for (let i = 0; i < count; i++) {
      data[i] = spec.dtype === "float32" ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
    }
  }
  return { dtype: spec.dtype, shape: spec.shape, data, derived: false };
}

function sumOf(
  key: StepTensorKey,
  sources: StepTensorKey[],
  tensors: Partial<Record<StepTensorKey, FrameTensor>>,
): FrameTensor {
  const first = sources.length ? tensors[sources[0]] : undefined;
  if (!first) throw new FrameError(`${key} is derived from [${sources.join(", ")}], which the frame does not hold`);
  const total = first.dtype === "float32" ? new Float32Array(first.data.length) : new Int32Array(first.data.length);
  for (const source of sources) {
    const part = tensors[source];
    if (!part || part.data.length !== total.length) {
      throw new FrameError(`${key}: source ${source} is missing or has another size`);
    }
    // Float32Array stores round each partial sum to float32, as numpy's float32 += does.
    for (let i = 0; i < total.length; i++) total[i] += part.data[i];
  }
  return { dtype: first.dtype, shape: first.shape, data: total, derived: true };
}

/** The value of a 0-d tensor, NaN and Inf included; falls back to the header's JSON scalar. */
export function frameScalar(frame: StepFrame, key: StepTensorKey): number | null {
  const tensor = frame.tensors[key];
  if (tensor && tensor.shape.length === 0 && tensor.data.length === 1) return tensor.data[0];
  const value = frame.header.scalars[key];
  return value === undefined ? null : value;
}
