/**
 * The DiffusionRuntime over onnxruntime-node: one InferenceSession per graph, created on first use
 * and cached; the CUDA execution provider where its libraries are installed, the CPU one otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { Head3dError } from '../../../core/errors.js';
import type { Bundle } from '../bundle.js';
import { graphKey } from '../bundle-manifest.js';
import { type GraphName, type GraphSignature, type ModelKind, graphSignature } from '../signatures.js';
import { type DiffusionRuntime, type Tensor, checkInputs, checkOutputs } from './tensor.js';

export type ProviderChoice = 'auto' | 'cpu' | 'cuda';

export interface OnnxRuntimeOptions {
  /** 'auto' (default): CUDA when its provider libraries are installed, else CPU; 'cuda' refuses to fall back. */
  provider?: ProviderChoice;
  /** Intra-op threads of each session (default: all cores). */
  threads?: number;
  /** One-line notes (which provider, fallbacks). */
  onNote?: (line: string) => void;
}

export const ONNX_RUNTIME_DEFAULTS = { provider: 'auto' as ProviderChoice };

const CUDA_HINT = 'install the CUDA provider: ONNXRUNTIME_NODE_INSTALL=true npm rebuild onnxruntime-node (see README, "GPU"), or pass --provider cpu';

/** What onnxruntime-node offers here: its version, its backends, and whether the CUDA provider library is installed. */
export interface OnnxProviders {
  version: string;
  backends: { name: string; bundled: boolean }[];
  cudaInstalled: boolean;
}

async function loadOrt(): Promise<typeof Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (error) {
    throw new Head3dError(`onnxruntime-node cannot be loaded: ${(error as Error).message.split('\n')[0]}`, { hint: 'run npm ci in the head3d folder' });
  }
}

/** Whether libonnxruntime_providers_cuda.so sits beside the binding (the postinstall puts it there). */
export function cudaProviderInstalled(): boolean {
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const bin = join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(bin, 'libonnxruntime_providers_cuda.so')) || existsSync(join(bin, 'onnxruntime_providers_cuda.dll'));
  } catch {
    return false;
  }
}

export async function onnxProviders(): Promise<OnnxProviders> {
  const ort = await loadOrt();
  return {
    version: ort.env.versions.node ?? ort.env.versions.common,
    backends: ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled })),
    cudaInstalled: cudaProviderInstalled(),
  };
}

/**
 * Opens the bundle's graphs with onnxruntime-node. Sessions are created lazily (a full-size bundle
 * is ~20 GB of weights; only the graphs a stage runs are loaded) and kept until `release`.
 *
 * @example
 * const runtime = await createOnnxRuntime(await loadBundle(dir), { threads: 2 });
 * const { eps } = await runtime.run('orbit', 'unet_uncond', { x, timestep, context });
 */
export async function createOnnxRuntime(bundle: Bundle, options: OnnxRuntimeOptions = {}): Promise<DiffusionRuntime> {
  const ort = await loadOrt();
  const choice = options.provider ?? ONNX_RUNTIME_DEFAULTS.provider;
  if (!['auto', 'cpu', 'cuda'].includes(choice)) throw new Head3dError(`--provider must be auto, cpu or cuda, not "${choice}"`);
  const listed = ort.listSupportedBackends().some((b) => b.name === 'cuda');
  const installed = listed && cudaProviderInstalled();
  if (choice === 'cuda' && !installed) throw new Head3dError('the onnxruntime CUDA execution provider is not installed', { hint: CUDA_HINT });
  const provider = choice === 'cpu' || !installed ? 'cpu' : 'cuda';
  if (choice === 'auto' && listed && !installed) options.onNote?.('onnxruntime: CUDA provider not installed, running on the CPU (full-size bundles take hours for 32 views)');
  const runtime = new OnnxDiffusionRuntime(ort, bundle, provider, choice, options);
  if (provider === 'cpu') noteFp16OnCpu(bundle, options);
  return runtime;
}

/**
 * An fp16 bundle on the CPU provider runs (onnxruntime-node 1.30 computes the float16 ops it has
 * no CPU kernel for through inserted Casts to float32; the tiny graphs match fp32 within 0.3%),
 * but slower than an fp32 bundle (tiny, 5 steps on 2 cores: orbit 45 s vs 29 s; sessions take
 * about twice as long to create): say so.
 */
function noteFp16OnCpu(bundle: Bundle, options: OnnxRuntimeOptions): void {
  if (bundle.manifest.precision !== 'fp16') return;
  options.onNote?.(
    'onnxruntime: this is an fp16 bundle (made for CUDA) running on the CPU provider: it works, through float32 casts, but loads and runs more slowly than fp32; ' +
      'for the CPU write an fp32 bundle (head3d models convert --precision fp32)',
  );
}

class OnnxDiffusionRuntime implements DiffusionRuntime {
  private readonly sessions = new Map<string, Promise<Ort.InferenceSession>>();
  private readonly signatures = new Map<string, GraphSignature>();

  constructor(
    private readonly ort: typeof Ort,
    private readonly bundle: Bundle,
    public provider: 'cpu' | 'cuda',
    private readonly choice: ProviderChoice,
    private readonly options: OnnxRuntimeOptions,
  ) {}

  private sessionOptions(provider: 'cpu' | 'cuda', model: ModelKind, graph: GraphName): Ort.InferenceSession.SessionOptions {
    const threads = this.options.threads ?? availableParallelism();
    return {
      executionProviders: provider === 'cuda' ? [{ name: 'cuda' }, 'cpu'] : ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Memory patterns pre-plan one arena block per shape; the orbit graphs see a few fixed shapes
      // (B = 8) so they pay off there, but the VAE graphs run at varying N and would keep a plan
      // (hundreds of MB at 512²) per batch size.
      enableMemPattern: !graph.startsWith('vae_'),
      enableCpuMemArena: true,
      logSeverityLevel: 3,
      logId: `${model}_${graph}`,
    };
  }

  private async session(model: ModelKind, graph: GraphName): Promise<Ort.InferenceSession> {
    const key = graphKey(model, graph);
    let session = this.sessions.get(key);
    if (!session) {
      session = this.open(model, graph);
      this.sessions.set(key, session);
      session.catch(() => this.sessions.delete(key));
    }
    return session;
  }

  private async open(model: ModelKind, graph: GraphName): Promise<Ort.InferenceSession> {
    const path = this.bundle.graphPath(model, graph);
    try {
      return await this.ort.InferenceSession.create(path, this.sessionOptions(this.provider, model, graph));
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      if (this.provider === 'cuda' && this.choice === 'auto') {
        this.options.onNote?.(`onnxruntime: the CUDA provider failed to start (${message}); falling back to the CPU`);
        this.provider = 'cpu';
        noteFp16OnCpu(this.bundle, this.options);
        return this.open(model, graph);
      }
      throw new Head3dError(`cannot open graph ${graphKey(model, graph)} (${path}): ${message}`, {
        hint: this.provider === 'cuda' ? CUDA_HINT : 'check the bundle with head3d models verify',
      });
    }
  }

  private signature(model: ModelKind, graph: GraphName): GraphSignature {
    const key = graphKey(model, graph);
    let signature = this.signatures.get(key);
    if (!signature) {
      signature = graphSignature(this.bundle.manifest.config, model, graph);
      this.signatures.set(key, signature);
    }
    return signature;
  }

  async run(model: ModelKind, graph: GraphName, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const label = graphKey(model, graph);
    const signature = this.signature(model, graph);
    const bound = checkInputs(label, signature, feeds);
    const session = await this.session(model, graph);
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = new this.ort.Tensor(tensor.type, tensor.data, tensor.dims);
    const results = await session.run(ortFeeds);
    const outputs: Record<string, Tensor> = {};
    for (const s of signature.outputs) {
      const value = results[s.name];
      if (!value) throw new Head3dError(`graph ${label} returned no ${s.name}`, { hint: 'check the bundle with head3d models verify' });
      outputs[s.name] = { type: value.type as Tensor['type'], dims: [...value.dims], data: value.data as Float32Array | BigInt64Array };
    }
    checkOutputs(label, signature, outputs, bound);
    return outputs;
  }

  async load(model: ModelKind, graphs: readonly GraphName[]): Promise<void> {
    for (const graph of graphs) await this.session(model, graph);
  }

  async release(model?: ModelKind): Promise<void> {
    for (const [key, session] of [...this.sessions]) {
      if (model && !key.startsWith(`${model}/`)) continue;
      this.sessions.delete(key);
      await (await session.catch(() => undefined))?.release();
    }
  }
}
