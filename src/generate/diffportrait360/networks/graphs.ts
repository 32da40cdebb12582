/**
 * The UNet-family graphs of a DiffPortrait360 model, emitted from the config with the I/O of
 * `graphSignature` (signatures.ts):
 *
 * - `appearance`: `control_model` on the clean reference latent in write mode → the 16 bank tensors
 *   (the graph ends at the last `norm1`; the dead rest is not built).
 * - `controlnet`: `pose_control_model` → ctrl_00..11, ctrl_mid.
 * - `unet_cond`: `model.diffusion_model` in read mode (k = v = own tokens ‖ bank) with the ControlNet
 *   residuals added to the middle output and to each skip (cldm ControlledUnetModelAttn[_Temporal]_Pose).
 * - `unet_uncond`: the `uc` pass — plain self-attention, no residuals (motion modules stay on).
 *
 * 'orbit' (360 model) UNets have the motion modules; 'back' ones do not.
 *
 * @example
 * const g = buildGraph(TINY_CONFIG, 'orbit', 'unet_cond');
 * await g.write('unet_cond.onnx', new RandomWeights({ seed: 1, std: 0.2, biasStd: 0.05 }));
 */
import type { DiffPortrait360Config } from '../config.js';
import { type ComputePrecision, GraphBuilder, type ParamSpec, type Value } from '../onnx/graph-builder.js';
import { bankEntries, bankName, CONTROL_MIDDLE, controlName, type GraphName, graphSignature, type ModelKind, referenceCount, type TensorSignature } from '../signatures.js';
import { controlNet } from './controlnet.js';
import { timeEmbed } from './timestep.js';
import type { BankValue, ReferenceAttention } from './transformer.js';
import { decoder, encoder, middleBlock, type TrunkPass, unetOut } from './unet.js';

export type UNetGraphName = Extract<GraphName, 'appearance' | 'controlnet' | 'unet_cond' | 'unet_uncond'>;
export const UNET_GRAPH_NAMES: readonly UNetGraphName[] = ['appearance', 'controlnet', 'unet_cond', 'unet_uncond'];

export const PREFIX = {
  unet: 'model.diffusion_model.',
  appearance: 'control_model.',
  controlnet: 'pose_control_model.',
} as const;

export interface UNetGraphOptions {
  /**
   * Memory budget of one attention's float32 probability tensor, in bytes; attentions that would
   * exceed it are split into sequential query chunks. Default 256 MiB (the full-size orbit cond pass
   * then uses 64 chunks at the 64² level).
   */
  attentionBytes?: number;
  /** The frame batch the graph is sized for (chunking only; the graph accepts any B). Default: videoLength for 'orbit', 1 for 'back'. */
  frames?: number;
  /** Compute precision (GraphBuilder): 'float16' for CUDA, norms and softmax stay float32. Default 'float32'. */
  precision?: ComputePrecision;
}

export const UNET_GRAPH_DEFAULTS: Required<Omit<UNetGraphOptions, 'frames'>> = { attentionBytes: 256 * 2 ** 20, precision: 'float32' };

function declareInputs(g: GraphBuilder, signature: readonly TensorSignature[]): Map<string, Value> {
  return new Map(signature.map((s) => [s.name, g.input(s.name, s.type, s.shape)]));
}

function declareOutputs(g: GraphBuilder, signature: readonly TensorSignature[], values: readonly Value[], what: string): void {
  if (values.length !== signature.length) throw new Error(`buildGraph ${what}: built ${values.length} outputs, signature has ${signature.length}`);
  signature.forEach((s, i) => g.output(values[i]!, s.name, s.type, s.shape));
}

function pass(config: DiffPortrait360Config, prefix: string, emb: Value, context: Value, mode: ReferenceAttention, motion: boolean, batch: number, bytes: number): TrunkPass {
  return { config, prefix, emb, context, mode, motion, budget: { bytes, batch } };
}

/**
 * Builds one graph; write it with `GraphBuilder.write` and a WeightSource (checkpoint or random).
 * Parameters are named by their state-dict keys.
 */
export function buildGraph(config: DiffPortrait360Config, model: ModelKind, graph: UNetGraphName, options: UNetGraphOptions = {}): GraphBuilder {
  const bytes = options.attentionBytes ?? UNET_GRAPH_DEFAULTS.attentionBytes;
  const frames = options.frames ?? (model === 'orbit' ? config.motion.videoLength : 1);
  const signature = graphSignature(config, model, graph);
  const g = new GraphBuilder(`dp360_${model}_${graph}`, { precision: options.precision ?? UNET_GRAPH_DEFAULTS.precision });
  const inputs = declareInputs(g, signature.inputs);
  const input = (name: string): Value => inputs.get(name)!;
  const withMotion = model === 'orbit';

  switch (graph) {
    case 'appearance': {
      const bank: Value[] = [];
      const mode: ReferenceAttention = { kind: 'write', bank, stopAfter: bankEntries(config).length };
      const emb = timeEmbed(g, input('timestep'), PREFIX.appearance, config.unet.modelChannels);
      appearanceTrunk(g, input('ref_latent'), pass(config, PREFIX.appearance, emb, input('context'), mode, false, 1, bytes));
      declareOutputs(g, signature.outputs, bank, graph);
      break;
    }
    case 'controlnet': {
      const emb = timeEmbed(g, input('timestep'), PREFIX.controlnet, config.unet.modelChannels);
      const p = pass(config, PREFIX.controlnet, emb, input('context'), { kind: 'plain' }, false, frames, bytes);
      declareOutputs(g, signature.outputs, controlNet(g, input('x'), input('hint'), p), graph);
      break;
    }
    case 'unet_cond':
    case 'unet_uncond': {
      const emb = timeEmbed(g, input('timestep'), PREFIX.unet, config.unet.modelChannels);
      const cond = graph === 'unet_cond';
      const references = referenceCount(model);
      const bank: BankValue[] = cond ? bankEntries(config).map((e, i) => ({ value: input(bankName(i)), tokens: references * e.tokens })) : [];
      const mode: ReferenceAttention = cond ? { kind: 'read', bank, next: 0 } : { kind: 'plain' };
      const p = pass(config, PREFIX.unet, emb, input('context'), mode, withMotion, frames, bytes);
      const { h, skips } = encoder(g, input('x'), p);
      let mid = middleBlock(g, h, p);
      let residuals: Value[] | undefined;
      if (cond) {
        mid = g.apply('Add', [mid, input(CONTROL_MIDDLE)], {}, 'controlled_middle');
        residuals = skips.map((_, i) => input(controlName(i)));
      }
      const eps = unetOut(g, decoder(g, mid, skips, p, residuals), p);
      if (mode.kind === 'read' && mode.next !== bank.length) throw new Error(`buildGraph ${graph}: read ${mode.next} of ${bank.length} bank entries`);
      declareOutputs(g, signature.outputs, [eps], graph);
      break;
    }
  }
  return g;
}

/** The appearance net's trunk (`ControlNetReferenceOnly`: input, middle and output blocks, no `out` head). */
function appearanceTrunk(g: GraphBuilder, x: Value, p: TrunkPass): Value {
  const { h, skips } = encoder(g, x, p);
  return decoder(g, middleBlock(g, h, p), skips, p);
}

export interface StateDictKey {
  key: string;
  shape: number[];
}

/**
 * Every state-dict key (with shape) of the UNet-family networks of one checkpoint, as torch's strict
 * load expects them: `model.diffusion_model.*` (motion modules included for 'orbit'),
 * `control_model.*` (dead output-block weights included) and `pose_control_model.*`. Not included:
 * `first_stage_model.*` (VAE), `cond_stage_model.*` (CLIP) and the DDPM schedule buffers.
 */
export function expectedStateDictKeys(config: DiffPortrait360Config, model: ModelKind): StateDictKey[] {
  const unet = buildGraph(config, model, 'unet_uncond').params;
  const g = new GraphBuilder('control_model_keys');
  const timestep = g.input('timestep', 'int64', [1]);
  const context = g.input('context', 'float32', [1, config.clip.contextLength, config.unet.contextDim]);
  const latent = g.input('x', 'float32', [1, config.unet.latentChannels, 1, 1]);
  const emb = timeEmbed(g, timestep, PREFIX.appearance, config.unet.modelChannels);
  appearanceTrunk(g, latent, pass(config, PREFIX.appearance, emb, context, { kind: 'write', bank: [] }, false, 1, Number.POSITIVE_INFINITY));
  const controlnet = buildGraph(config, model, 'controlnet').params;
  return [...unet, ...g.params, ...controlnet].map((p: ParamSpec) => ({ key: p.name, shape: [...p.shape] }));
}
