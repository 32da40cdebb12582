#!/usr/bin/env python3
"""Reference outputs of tiny random DiffPortrait360 models, computed by the official network code
on CPU, for the parity tests of head3d's ONNX port (recipe: docs/diffportrait360-reference-on-cpu.md).

This script is ours; it imports the reference code from the path given with --code and never copies
it. It builds the tiny 360 model (cldm_v15_reference_only_temporal_pose.yaml → 'orbit') and the tiny
back-head model (cldm_v15_reference_only_pose_enable_PC.yaml → 'back') from the official YAMLs with
the widths and heads shrunk (recipe §4; key names unchanged), re-randomises every parameter (seeded:
≥2-D ~ N(0, 0.2²), 1-D ~ N(0, 0.05²), norm scales 1 + N(0, 0.05²)), and writes to --out:

  tiny-orbit.pt, tiny-back.pt       torch.save(model.state_dict()) (zip format, as the released .th files)
  tiny-orbit.yaml, tiny-back.yaml   the configs that were instantiated
  tiny-*.summary.json               per state-dict key: dtype, shape, sum, sum of |x|, first values
  orbit/*.bin, back/*.bin           float32 little-endian, row-major
  manifest.json                     every tensor (file, shape, max |x|) and the graph calls they belong to

Outputs per model, for fixed seeded inputs (orbit B = 8 frames, two references; back B = 1, one):
  appearance banks (16) of each reference (B = 1), camera-ControlNet residuals (13), UNet ε in read
  mode (banks [front ‖ back], residuals) and in uc mode, VAE encoder mean/logvar of a 64² image, VAE
  decoder image of a latent, one full DDIM step (index 49, t = 981, CFG 3, eta 0.5, injected noise).

Setup (Debian 12; use /usr/bin/python3 — a pyenv python3 first on PATH has no torch):
  apt-get install -y python3-torch python3-torchvision python3-omegaconf python3-tqdm
  reference code: github twowwj/diff360 (diffportrait360_release/code), extracted file by file
  shims for einops, pytorch_lightning, xformers and a diffusers 0.26 subset (recipe §3) in one folder
Run (about 20 s; always one thread: two threads are 20–40× slower on small VMs and change the last bits):
  OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/make_tiny_fixtures.py \\
      --code /work/scratch-ref/diff360/diffportrait360_release/code --shims /work/scratch-ref/shims \\
      --out /work/scratch-ref/out
Reproducible: the same torch build and thread count give bit-identical files (seed: --seed, default 0).
"""
import argparse
import contextlib
import json
import os
import sys
import time

import torch

TINY_UNET = dict(model_channels=32, num_heads=2, context_dim=32, num_res_blocks=2)
MODELS = {
    'orbit': 'cldm_v15_reference_only_temporal_pose.yaml',
    'back': 'cldm_v15_reference_only_pose_enable_PC.yaml',
}
T = 981
DDIM_INDEX = 49
GUIDANCE = 3.0
ETA = 0.5


def tiny_config(yaml_path):
    from omegaconf import OmegaConf
    cfg = OmegaConf.load(yaml_path)
    p = cfg.model.params
    p.image_size = 8
    p.cond_stage_config = '__is_unconditional__'
    p.force_null_conditioning = True
    for part in ('unet_config', 'appearance_control_stage_config', 'pose_control_stage_config'):
        for k, v in TINY_UNET.items():
            p[part].params[k] = v
    extra = p.unet_config.params.get('unet_additional_kwargs')
    if extra is not None:
        extra.motion_module_kwargs.num_attention_heads = 4
        extra.motion_module_kwargs.video_length = 8
    dd = p.first_stage_config.params.ddconfig
    dd.ch = 32
    dd.num_res_blocks = 2
    dd.resolution = 64
    return cfg


def rerandomise(model, seed, init):
    """Every parameter, in module order, from one seeded generator (zero-initialised layers included).

    init 'fanin' (default): ≥2-D weights ~ N(0, 1/fan_in), so that every path (hint encoder, zero
    convs, skips) carries activations of order 1 and a parity test sees each of them; with 'recipe'
    (≥2-D ~ N(0, 0.2²)) the ControlNet residuals reach ~5e5 and swamp the UNet skips they are added to.
    1-D: N(0, 0.05²), norm scales 1 + N(0, 0.05²), in both.
    """
    g = torch.Generator().manual_seed(seed)
    norms = (torch.nn.GroupNorm, torch.nn.LayerNorm, torch.nn.BatchNorm2d)
    norm_weights = set()
    for mname, m in model.named_modules():
        if isinstance(m, norms) and m.weight is not None:
            norm_weights.add(f'{mname}.weight' if mname else 'weight')
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                std = 0.2 if init == 'recipe' else p[0].numel() ** -0.5
                p.copy_(torch.randn(p.shape, generator=g) * std)
            elif name in norm_weights:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.05)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)


class Writer:
    def __init__(self, out, model):
        self.out, self.model, self.tensors = out, model, {}
        os.makedirs(os.path.join(out, model), exist_ok=True)

    def __call__(self, name, t):
        t = t.detach().to(torch.float32).contiguous()
        rel = f'{self.model}/{name}.bin'
        with open(os.path.join(self.out, rel), 'wb') as f:
            f.write(t.numpy().astype('<f4').tobytes())
        self.tensors[name] = {'file': rel, 'shape': list(t.shape), 'maxAbs': float(t.abs().max()) if t.numel() else 0.0}
        return name


def cpu_sampler(model):
    from model_lib.ControlNet.ldm.models.diffusion.ddim import DDIMSampler_ReferenceOnly

    class CpuSampler(DDIMSampler_ReferenceOnly):
        def register_buffer(self, name, attr):  # upstream moves every schedule tensor to cuda
            setattr(self, name, attr)

    return CpuSampler(model)


def run_model(kind, args, seed, out, log):
    from model_lib.ControlNet.ldm.util import instantiate_from_config
    from omegaconf import OmegaConf

    t0 = time.time()
    cfg = tiny_config(os.path.join(args.code, 'model_lib/ControlNet/models', MODELS[kind]))
    OmegaConf.save(cfg, os.path.join(out, f'tiny-{kind}.yaml'))
    torch.manual_seed(seed)
    with contextlib.redirect_stdout(sys.stderr if args.verbose else open(os.devnull, 'w')):  # the code prints every layer
        model = instantiate_from_config(cfg.model).eval()
    rerandomise(model, seed + (0 if kind == 'orbit' else 1000), args.init)
    sd = model.state_dict()
    torch.save(sd, os.path.join(out, f'tiny-{kind}.pt'))
    with open(os.path.join(out, f'tiny-{kind}.summary.json'), 'w') as f:  # to check a reader of the .pt key by key
        f.write('[\n' + ',\n'.join(json.dumps({
            'key': k, 'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape),
            'sum': float(v.double().sum()), 'absSum': float(v.double().abs().sum()),
            'first': [float(e) for e in v.reshape(-1)[:4].double()]}) for k, v in sd.items()) + '\n]\n')
    t_build = time.time() - t0

    B = 8 if kind == 'orbit' else 1
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(8, 4, 8, 8, generator=g)[:B].contiguous()
    hint = (torch.rand(8, 3, 64, 64, generator=g) * 2 - 1)[:B].contiguous()
    context = torch.randn(1, 77, 32, generator=g)
    ref_front = torch.randn(1, 4, 8, 8, generator=g)
    ref_back = torch.randn(1, 4, 8, 8, generator=g)
    vae_image = torch.rand(1, 3, 64, 64, generator=g) * 2 - 1
    vae_latent = torch.randn(1, 4, 8, 8, generator=g)
    noise_seed = seed + 2
    torch.manual_seed(noise_seed)
    ddim_noise = torch.randn(x.shape)
    ctx = context.expand(B, 77, 32).contiguous()
    t1 = torch.full((1,), T, dtype=torch.long)
    tB = torch.full((B,), T, dtype=torch.long)
    refs = {'front': ref_front} if kind == 'back' else {'front': ref_front, 'back': ref_back}

    w = Writer(out, kind)
    for name, t in (('x', x), ('hint', hint), ('context', context), ('ref_front', ref_front), ('vae_image', vae_image), ('vae_latent', vae_latent), ('ddim_noise', ddim_noise)):
        w(f'input.{name}', t)
    if kind == 'orbit':
        w('input.ref_back', ref_back)

    cases, timings = [], {'build': t_build}
    with torch.no_grad():
        # Appearance net, write mode, one reference at B = 1 (the graph's batch; the code tiles ×B).
        s = time.time()
        banks = {}
        for label, ref in refs.items():
            bank = []
            assert model.control_model(x=ref, hint=None, timesteps=t1, context=context, attention_bank=bank, attention_mode='write', uc=False) == []
            assert len(bank) == 16
            banks[label] = bank
            cases.append({'graph': 'appearance', 'label': label,
                          'inputs': {'ref_latent': f'input.ref_{label}', 'timestep': [T], 'context': 'input.context'},
                          'outputs': {f'bank_{i:02d}': w(f'appearance_{label}.bank_{i:02d}', b) for i, b in enumerate(bank)}})
        timings['appearance'] = time.time() - s

        # Camera ControlNet.
        s = time.time()
        residuals = model.pose_control_model(x=x, hint=hint, timesteps=tB, context=ctx)
        assert len(residuals) == 13
        names = [f'ctrl_{i:02d}' for i in range(12)] + ['ctrl_mid']
        cases.append({'graph': 'controlnet', 'inputs': {'x': 'input.x', 'hint': 'input.hint', 'timestep': [T] * B, 'context': 'input.context'},
                      'outputs': {n: w(f'controlnet.{n}', r) for n, r in zip(names, residuals)}})
        timings['controlnet'] = time.time() - s

        # UNet, read mode: bank entry j = [front ‖ back] along tokens, broadcast over the batch.
        s = time.time()
        joined = [torch.cat([banks[l][j] for l in refs], dim=1) for j in range(16)]
        unet = model.model.diffusion_model
        eps_cond = unet(x=x, timesteps=tB, context=ctx, control=[b.expand(B, -1, -1) for b in joined], pose_control=list(residuals),
                        attention_mode='read', uc=False)
        inputs = {'x': 'input.x', 'timestep': [T] * B, 'context': 'input.context'}
        inputs.update({f'bank_{j:02d}': w(f'unet_cond.bank_{j:02d}', b) for j, b in enumerate(joined)})
        inputs.update({n: f'controlnet.{n}' for n in names})
        cases.append({'graph': 'unet_cond', 'inputs': inputs, 'outputs': {'eps': w('unet_cond.eps', eps_cond)}})
        timings['unet_cond'] = time.time() - s

        s = time.time()
        eps_uncond = unet(x=x, timesteps=tB, context=ctx, control=[], pose_control=None, attention_mode='read', uc=True)
        cases.append({'graph': 'unet_uncond', 'inputs': {'x': 'input.x', 'timestep': [T] * B, 'context': 'input.context'},
                      'outputs': {'eps': w('unet_uncond.eps', eps_uncond)}})
        timings['unet_uncond'] = time.time() - s

        # The same two ε through the model's own apply_model, references tiled ×B as inference.py does.
        s = time.time()
        cond = {'c_concat': [hint], 'c_crossattn': [ctx], 'image_control': [ref_front.expand(B, -1, -1, -1)], 'wonoise': True}
        more = None
        if kind == 'orbit':
            more = [ref_back.expand(B, -1, -1, -1)]
            cond['more_image_control'] = more
        uc = {'c_concat': [hint], 'c_crossattn': [ctx], 'wonoise': True}
        apply_cond = model.apply_model(x, tB, cond, ref_front.expand(B, -1, -1, -1), more_reference_image_noisy=more)
        apply_uncond = model.apply_model(x, tB, cond, None, uc=True)
        check = {'applyModelCondMaxAbsDiff': float((apply_cond - eps_cond).abs().max()),
                 'applyModelUncondMaxAbsDiff': float((apply_uncond - eps_uncond).abs().max())}
        timings['apply_model'] = time.time() - s

        # VAE: the encoder's moments before DiagonalGaussianDistribution clamps logvar to [-30, 20].
        s = time.time()
        vae = model.first_stage_model
        moments = vae.quant_conv(vae.encoder(vae_image))
        mean, logvar = torch.chunk(moments, 2, dim=1)
        post = model.encode_first_stage(vae_image)
        assert torch.equal(post.mean, mean)
        cases.append({'graph': 'vae_encoder', 'inputs': {'image': 'input.vae_image'},
                      'outputs': {'mean': w('vae_encoder.mean', mean), 'logvar': w('vae_encoder.logvar', logvar)}})
        image = vae.decode(vae_latent)
        check['decodeFirstStageMaxAbsDiff'] = float((model.decode_first_stage(vae_latent * model.scale_factor) - image).abs().max())
        cases.append({'graph': 'vae_decoder', 'inputs': {'latent': 'input.vae_latent'}, 'outputs': {'image': w('vae_decoder.image', image)}})
        timings['vae'] = time.time() - s

        # One DDIM step of the official sampler (cond + uc + CFG + update with the seeded noise).
        s = time.time()
        sampler = cpu_sampler(model)
        sampler.make_schedule(50, ddim_eta=ETA, verbose=False)
        assert int(sampler.ddim_timesteps[DDIM_INDEX]) == T
        torch.manual_seed(noise_seed)
        x_prev, pred_x0 = sampler.p_sample_ddim(x, cond, tB, index=DDIM_INDEX, unconditional_guidance_scale=GUIDANCE, unconditional_conditioning=uc)
        ddim = {
            'index': DDIM_INDEX, 'timestep': T, 'steps': 50, 'eta': ETA, 'guidanceScale': GUIDANCE, 'noiseSeed': noise_seed,
            'inputs': {'x': 'input.x', 'noise': 'input.ddim_noise', 'epsCond': 'unet_cond.eps', 'epsUncond': 'unet_uncond.eps'},
            'outputs': {'xPrev': w('ddim.x_prev', x_prev), 'predX0': w('ddim.pred_x0', pred_x0)},
            'aT': float(torch.tensor(float(sampler.ddim_alphas[DDIM_INDEX]), dtype=torch.float32)),
            'aPrev': float(torch.tensor(float(sampler.ddim_alphas_prev[DDIM_INDEX]), dtype=torch.float32)),
            'sigmaT': float(torch.tensor(float(sampler.ddim_sigmas[DDIM_INDEX]), dtype=torch.float32)),
            'sqrtOneMinusAT': float(torch.tensor(float(sampler.ddim_sqrt_one_minus_alphas[DDIM_INDEX]), dtype=torch.float32)),
        }
        timings['ddim_step'] = time.time() - s

    params = sum(p.numel() for p in model.parameters())
    log(f'{kind}: {len(sd)} state-dict tensors, {params / 1e6:.2f} M parameters, checks {check}')
    return {
        'stateDict': f'tiny-{kind}.pt', 'yaml': f'tiny-{kind}.yaml', 'stateDictTensors': len(sd), 'parameters': params,
        'batch': B, 'references': list(refs), 'checks': check, 'cases': cases, 'ddim': ddim, 'tensors': w.tensors,
        'seconds': {k: round(v, 3) for k, v in timings.items()},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--code', required=True, help='…/diffportrait360_release/code of twowwj/diff360')
    ap.add_argument('--shims', required=True, help='folder with the einops/pytorch_lightning/xformers/diffusers shims')
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--models', default='orbit,back')
    ap.add_argument('--verbose', action='store_true', help="show the reference code's own prints")
    ap.add_argument('--init', choices=('fanin', 'recipe'), default='fanin', help='weight init of ≥2-D parameters (see rerandomise)')
    args = ap.parse_args()
    start = time.time()
    torch.set_num_threads(1)
    sys.path[:0] = [os.path.abspath(args.shims), os.path.abspath(args.code)]
    os.makedirs(args.out, exist_ok=True)
    log = lambda m: print(m, file=sys.stderr)
    manifest = {
        'format': 'head3d-dp360-reference-fixtures', 'version': 1, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'seed': args.seed, 'init': args.init, 'config': 'tiny (src/generate/diffportrait360/config.ts TINY_CONFIG)', 'dtype': 'float32', 'byteOrder': 'little',
        'notes': [
            'tensors: name -> {file (relative to this manifest), shape, maxAbs}; every file is float32 little-endian row-major',
            'cases: one graph call each (names of signatures.ts); inputs map a graph input to a tensor name or, for timestep, the int64 values',
            'context is [1,77,32]; the reference code saw it repeated over the batch',
            'vae_encoder.logvar is before the [-30, 20] clamp of DiagonalGaussianDistribution',
            'ddim: x_prev = sqrt(aPrev)*pred_x0 + sqrt(1-aPrev-sigmaT^2)*eps + sigmaT*noise, eps = uncond + 3*(cond - uncond), pred_x0 = (x - sqrtOneMinusAT*eps)/sqrt(aT)',
        ],
        'models': {},
    }
    for kind in args.models.split(','):
        manifest['models'][kind] = run_model(kind, args, args.seed, args.out, log)
    manifest['seconds'] = round(time.time() - start, 2)
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    log(f'wrote {args.out}/manifest.json in {manifest["seconds"]} s')


if __name__ == '__main__':
    main()
