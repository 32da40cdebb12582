#!/usr/bin/env python3
"""The committed micro checkpoints of DiffPortrait360 (test/fixtures/dp360/micro/) and a few outputs
of the official network code on them, for the converter round-trip test
(test/generate/dp360/convert-roundtrip.test.ts).

This script is ours; it imports the reference code from --code (github twowwj/diff360,
diffportrait360_release/code) and never copies it, and it reuses make_tiny_fixtures.py (same folder)
for the rest. It builds the back and orbit models from the official YAMLs at the 'micro' size of
src/generate/diffportrait360/config.ts MICRO_CONFIG (the tiny config with the levels 32, 32, 64, 64 wide:
channel_mult [1, 1, 2, 2], VAE ch_mult [1, 1, 1, 1]; key names unchanged), re-randomises every
parameter (seeded, rerandomise's law, as windows of shared pools: see pooled_parameters), rounds every
float to fp16 and writes to --out:

  micro-back.pt, micro-orbit.pt   torch.save of the state dict, zip format, float tensors stored as fp16
                                  (as the released .th files store most of theirs), parameters as views
                                  into a few shared storages (pooled_parameters), plus a CLIP text
                                  encoder in the HF layout (cond_stage_model.transformer.text_model.*),
                                  random (the reference CLIP needs transformers); its token embedding
                                  [49408, 32] is an overlapping strided view (row i = storage[i : i+32])
                                  so that the file stays small: torch.load returns an ordinary tensor
  micro-back-broken.pt            the back keys less model.diffusion_model.out.2.weight, with
                                  first_stage_model.decoder.conv_out.bias as [4] (not [3]), all zeros
                                  (zero-stride views of one value): the converter must refuse it
  manifest.json, back/*.bin, orbit/*.bin
                                  fp32 outputs of the official code (computed with the fp16-rounded
                                  weights in fp32) for fixed seeded inputs: back: appearance banks, camera
                                  ControlNet residuals, UNet ε in read and uc mode, VAE decoder;
                                  orbit (8 frames): appearance banks of the front reference, UNet ε in uc mode

Run (about 4 s; one thread, see make_tiny_fixtures.py for the setup; the same torch build gives the same bytes):
  OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/make_micro_checkpoint.py \\
      --code /work/scratch-ref/diff360/diffportrait360_release/code --shims /work/scratch-ref/shims \\
      --out test/fixtures/dp360/micro
"""
import argparse
import collections
import contextlib
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_fixtures as tiny  # noqa: E402

T = tiny.T
CLIP = dict(width=32, layers=2, vocab=49408, length=77)
CLIP_PREFIX = 'cond_stage_model.transformer.text_model'
# The last level runs at 1x1 and its first block reads the level before: 64 channels leave GroupNorm(32)
# two values per group there (torch refuses one).
CHANNEL_MULT = (1, 1, 2, 2)
BROKEN_MISSING = 'model.diffusion_model.out.2.weight'
BROKEN_RESHAPED, BROKEN_SHAPE = 'first_stage_model.decoder.conv_out.bias', (4,)


def pooled_parameters(model, seed):
    """Re-randomises every parameter with make_tiny_fixtures.rerandomise's law ('fanin': >=2-D
    ~ N(0, 1/fan_in), norm scales 1 + N(0, 0.05^2), other 1-D N(0, 0.05^2)), but as fp16 windows of a
    few shared random pools (one per law and fan-in; each tensor at its own seeded offset), and
    returns {name: window}. torch.save stores each pool once, so the checkpoint holds ~0.5 M values
    instead of the model's ~4 M; torch.load returns ordinary tensors (views with storage offsets)."""
    g = torch.Generator().manual_seed(seed)
    norms = (torch.nn.GroupNorm, torch.nn.LayerNorm, torch.nn.BatchNorm2d)
    norm_weights = {f'{n}.weight' if n else 'weight' for n, m in model.named_modules() if isinstance(m, norms) and m.weight is not None}
    params = list(model.named_parameters())
    law = {}
    for name, p in params:
        if p.dim() >= 2:
            law[name] = ('fanin', p[0].numel())
        else:
            law[name] = ('norm', 0) if name in norm_weights else ('bias', 0)
    pools = {}
    for key in sorted(set(law.values())):
        size = max(p.numel() for n, p in params if law[n] == key) + 4096
        values = torch.randn(size, generator=g)
        kind, fan_in = key
        values = 1 + values * 0.05 if kind == 'norm' else values * (0.05 if kind == 'bias' else fan_in ** -0.5)
        pools[key] = values.half()
    windows = {}
    with torch.no_grad():
        for name, p in params:
            pool = pools[law[name]]
            offset = int(torch.randint(0, pool.numel() - p.numel() + 1, (1,), generator=g))
            windows[name] = pool[offset:offset + p.numel()].view(p.shape)
            p.copy_(windows[name].float())
    return windows


def micro_config(yaml_path):
    cfg = tiny.tiny_config(yaml_path)
    p = cfg.model.params
    for part in ('unet_config', 'appearance_control_stage_config', 'pose_control_stage_config'):
        p[part].params.channel_mult = list(CHANNEL_MULT)
    p.first_stage_config.params.ddconfig.ch_mult = [1, 1, 1, 1]
    return cfg


def clip_state_dict(seed):
    """HF CLIPTextModel keys at width 32, 2 layers, random (fan-in init), values fp16."""
    g = torch.Generator().manual_seed(seed)
    w, L = CLIP['width'], CLIP['length']
    sd = collections.OrderedDict()

    def rnd(*shape, std):
        return (torch.randn(shape, generator=g) * std).half()

    window = rnd(CLIP['vocab'] + w - 1, std=1.0)
    sd[f'{CLIP_PREFIX}.embeddings.token_embedding.weight'] = window.as_strided((CLIP['vocab'], w), (1, 1))
    sd[f'{CLIP_PREFIX}.embeddings.position_embedding.weight'] = rnd(L, w, std=0.2)
    for i in range(CLIP['layers']):
        k = f'{CLIP_PREFIX}.encoder.layers.{i}'
        for proj in ('k_proj', 'v_proj', 'q_proj', 'out_proj'):
            sd[f'{k}.self_attn.{proj}.weight'] = rnd(w, w, std=w ** -0.5)
            sd[f'{k}.self_attn.{proj}.bias'] = rnd(w, std=0.05)
        sd[f'{k}.layer_norm1.weight'] = (1 + torch.randn(w, generator=g) * 0.05).half()
        sd[f'{k}.layer_norm1.bias'] = rnd(w, std=0.05)
        sd[f'{k}.mlp.fc1.weight'] = rnd(4 * w, w, std=w ** -0.5)
        sd[f'{k}.mlp.fc1.bias'] = rnd(4 * w, std=0.05)
        sd[f'{k}.mlp.fc2.weight'] = rnd(w, 4 * w, std=(4 * w) ** -0.5)
        sd[f'{k}.mlp.fc2.bias'] = rnd(w, std=0.05)
        sd[f'{k}.layer_norm2.weight'] = (1 + torch.randn(w, generator=g) * 0.05).half()
        sd[f'{k}.layer_norm2.bias'] = rnd(w, std=0.05)
    sd[f'{CLIP_PREFIX}.final_layer_norm.weight'] = (1 + torch.randn(w, generator=g) * 0.05).half()
    sd[f'{CLIP_PREFIX}.final_layer_norm.bias'] = rnd(w, std=0.05)
    sd[f'{CLIP_PREFIX}.embeddings.position_ids'] = torch.arange(L, dtype=torch.int64)[None]
    return sd


def run_model(kind, args, out, log):
    from model_lib.ControlNet.ldm.util import instantiate_from_config

    seed = args.seed + (0 if kind == 'orbit' else 1000)
    cfg = micro_config(os.path.join(args.code, 'model_lib/ControlNet/models', tiny.MODELS[kind]))
    torch.manual_seed(seed)
    with contextlib.redirect_stdout(open(os.devnull, 'w')):  # the code prints every layer
        model = instantiate_from_config(cfg.model).eval()
    windows = pooled_parameters(model, seed)
    with torch.no_grad():
        for v in model.state_dict().values():  # buffers too: the outputs below see exactly the stored fp16 values
            if v.is_floating_point():
                v.copy_(v.half().float())
    sd = collections.OrderedDict((k, windows[k] if k in windows else v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    sd.update(clip_state_dict(seed + 7))
    torch.save(sd, os.path.join(out, f'micro-{kind}.pt'))
    if kind == 'back':
        # The converter must refuse this one: one key missing, one mis-shaped; every tensor is a
        # zero-stride view of one fp16 zero, so the file is mostly its pickle.
        zero = torch.zeros(1, dtype=torch.float16)
        broken = collections.OrderedDict((k, v if not v.is_floating_point() else zero.expand(v.shape)) for k, v in sd.items() if k != BROKEN_MISSING)
        broken[BROKEN_RESHAPED] = zero.expand(BROKEN_SHAPE)
        torch.save(broken, os.path.join(out, 'micro-back-broken.pt'))

    B = 8 if kind == 'orbit' else 1
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(B, 4, 8, 8, generator=g)
    hint = torch.rand(B, 3, 64, 64, generator=g) * 2 - 1
    context = torch.randn(1, 77, 32, generator=g)
    ref_front = torch.randn(1, 4, 8, 8, generator=g)
    vae_latent = torch.randn(1, 4, 8, 8, generator=g)
    ctx = context.expand(B, 77, 32).contiguous()
    t1 = torch.full((1,), T, dtype=torch.long)
    tB = torch.full((B,), T, dtype=torch.long)

    w = tiny.Writer(out, kind)
    w('input.x', x)
    w('input.context', context)
    w('input.ref_front', ref_front)
    cases = []
    unet = model.model.diffusion_model
    with torch.no_grad():
        bank = []
        model.control_model(x=ref_front, hint=None, timesteps=t1, context=context, attention_bank=bank, attention_mode='write', uc=False)
        assert len(bank) == 16
        cases.append({'graph': 'appearance', 'inputs': {'ref_latent': 'input.ref_front', 'timestep': [T], 'context': 'input.context'},
                      'outputs': {f'bank_{i:02d}': w(f'appearance.bank_{i:02d}', b) for i, b in enumerate(bank)}})
        eps_uncond = unet(x=x, timesteps=tB, context=ctx, control=[], pose_control=None, attention_mode='read', uc=True)
        cases.append({'graph': 'unet_uncond', 'inputs': {'x': 'input.x', 'timestep': [T] * B, 'context': 'input.context'},
                      'outputs': {'eps': w('unet_uncond.eps', eps_uncond)}})
        if kind == 'back':
            w('input.hint', hint)
            w('input.vae_latent', vae_latent)
            residuals = model.pose_control_model(x=x, hint=hint, timesteps=tB, context=ctx)
            names = [f'ctrl_{i:02d}' for i in range(12)] + ['ctrl_mid']
            cases.append({'graph': 'controlnet', 'inputs': {'x': 'input.x', 'hint': 'input.hint', 'timestep': [T] * B, 'context': 'input.context'},
                          'outputs': {n: w(f'controlnet.{n}', r) for n, r in zip(names, residuals)}})
            eps_cond = unet(x=x, timesteps=tB, context=ctx, control=list(bank), pose_control=list(residuals), attention_mode='read', uc=False)
            inputs = {'x': 'input.x', 'timestep': [T] * B, 'context': 'input.context'}
            inputs.update({f'bank_{j:02d}': f'appearance.bank_{j:02d}' for j in range(16)})
            inputs.update({n: f'controlnet.{n}' for n in names})
            cases.append({'graph': 'unet_cond', 'inputs': inputs, 'outputs': {'eps': w('unet_cond.eps', eps_cond)}})
            cases.append({'graph': 'vae_decoder', 'inputs': {'latent': 'input.vae_latent'},
                          'outputs': {'image': w('vae_decoder.image', model.first_stage_model.decode(vae_latent))}})
    params = sum(p.numel() for p in model.parameters())
    size = os.path.getsize(os.path.join(out, f'micro-{kind}.pt'))
    log(f'{kind}: {len(sd)} state-dict tensors ({params / 1e6:.2f} M parameters + CLIP), micro-{kind}.pt {size / 2**20:.2f} MiB')
    return {'checkpoint': f'micro-{kind}.pt', 'stateDictTensors': len(sd), 'parameters': params, 'batch': B, 'cases': cases, 'tensors': w.tensors}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--code', required=True, help='…/diffportrait360_release/code of twowwj/diff360')
    ap.add_argument('--shims', required=True, help='folder with the einops/pytorch_lightning/xformers/diffusers shims')
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    start = time.time()
    torch.set_num_threads(1)
    sys.path[:0] = [os.path.abspath(args.shims), os.path.abspath(args.code)]
    os.makedirs(args.out, exist_ok=True)
    log = lambda m: print(m, file=sys.stderr)
    manifest = {
        'format': 'head3d-dp360-micro-checkpoints', 'version': 1, 'torch': torch.__version__, 'seed': args.seed,
        'config': 'micro (src/generate/diffportrait360/config.ts MICRO_CONFIG)', 'dtype': 'float32', 'byteOrder': 'little',
        'notes': [
            'made by scripts/reference/make_micro_checkpoint.py; checkpoints store floats as fp16, outputs were computed in fp32 from those values',
            'tensors: name -> {file (relative to this manifest), shape, maxAbs}; float32 little-endian row-major',
            'cases: one graph call each (names of signatures.ts); inputs map a graph input to a tensor name or, for timestep, the int64 values',
            'unet_cond (back) reads the appearance banks of the front reference only; context [1,77,32] was repeated over the batch',
        ],
        'broken': {'checkpoint': 'micro-back-broken.pt', 'missing': [BROKEN_MISSING], 'wrongShape': {BROKEN_RESHAPED: list(BROKEN_SHAPE)}},
        'models': {},
    }
    for kind in ('back', 'orbit'):
        manifest['models'][kind] = run_model(kind, args, args.out, log)
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    log(f'wrote {args.out} in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
