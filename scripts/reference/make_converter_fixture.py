#!/usr/bin/env python3
"""Writes test/fixtures/dp360/converter-fixture.pt and converter-fixture.json for the TypeScript
checkpoint reader (src/generate/diffportrait360/checkpoint/, test/generate/dp360-checkpoint.test.ts).

The checkpoint is a torch.save zip (the format of the released DiffPortrait360 .th files) holding a
state dict nested under 'state_dict' beside plain values, with tensors of mixed dtypes (fp32, fp16,
bf16, fp64, int64, int32, uint8, bool), nn.Parameters, views that share a storage (a transpose, a
strided slice with a storage offset, an expanded zero-stride view), a 0-d and an empty tensor. Every
value follows a formula that the test recomputes; the JSON records what torch reports for each
tensor (dtype, shape, stride, storage offset) and its values (all of them for small tensors, the
sum and the first values for the large one).

Run (Debian's torch; the pyenv python3 on PATH has none):
    /usr/bin/python3 scripts/reference/make_converter_fixture.py [out_dir]   # default test/fixtures/dp360
Reproducible: no randomness; same bytes with the same torch version.
"""
import collections
import json
import os
import sys

import torch


def ramp(n, dtype=torch.float32):
    """((k * 37) % 101) / 16 - 3 for k = 0..n-1: exact in fp16, bf16 and fp32."""
    k = torch.arange(n, dtype=torch.float64)
    return (((k * 37) % 101) / 16 - 3).to(dtype)


def big(rows, cols):
    """((131 i + 71 j) % 1000) / 1000 - 0.5, computed in float64 and rounded to float32."""
    i = torch.arange(rows, dtype=torch.float64)[:, None]
    j = torch.arange(cols, dtype=torch.float64)[None, :]
    return (((131 * i + 71 * j) % 1000) / 1000 - 0.5).float()


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'dp360')
    os.makedirs(out_dir, exist_ok=True)

    base = ramp(24).reshape(4, 6)                       # one storage, viewed three ways
    wide = ramp(40, torch.float16).reshape(5, 8)
    sd = collections.OrderedDict()
    sd['model.diffusion_model.input_blocks.0.0.weight'] = torch.nn.Parameter(ramp(2 * 3 * 3 * 3).reshape(2, 3, 3, 3))
    sd['model.diffusion_model.input_blocks.0.0.bias'] = torch.nn.Parameter(ramp(2), requires_grad=False)
    sd['fp16.weight'] = ramp(12, torch.float16).reshape(3, 4)
    sd['bf16.weight'] = ramp(10, torch.bfloat16).reshape(2, 5)
    sd['fp64.value'] = ramp(6, torch.float64)
    sd['int64.ids'] = torch.tensor([0, 1, -2, 49407, 2 ** 40, -(2 ** 33)], dtype=torch.int64)
    sd['int32.ids'] = torch.tensor([7, -7, 2 ** 30], dtype=torch.int32)
    sd['uint8.bytes'] = torch.tensor([0, 1, 254, 255], dtype=torch.uint8)
    sd['bool.mask'] = torch.tensor([True, False, True])
    sd['view.base'] = base
    sd['view.transposed'] = base.t()                    # stride (1, 6)
    sd['view.slice'] = base[1:, 1::2]                   # offset 7, stride (6, 2)
    sd['view.fp16_slice'] = wide[2:4, 3:7]              # fp16, offset 19, stride (8, 1)
    sd['view.expanded'] = ramp(3).reshape(3, 1).expand(3, 4)  # stride (1, 0)
    sd['scalar'] = torch.tensor(2.5)
    sd['empty'] = torch.zeros(0, 3)
    sd['large.weight'] = big(96, 320)                   # 120 KB
    sd['betas'] = ramp(1000, torch.float16)             # like the fp16 schedule buffers of the fork
    checkpoint = {'state_dict': sd, 'global_step': 340000, 'epoch': 12, 'lr': 1.5e-5, 'name': 'converter-fixture', 'flags': [True, False, None]}

    pt = os.path.join(out_dir, 'converter-fixture.pt')
    torch.save(checkpoint, pt)

    expected = {'torch': torch.__version__, 'tensors': []}
    for key, t in sd.items():
        t = t.detach()
        values = t.contiguous().double().reshape(-1)
        entry = {
            'key': key,
            'dtype': str(t.dtype).replace('torch.', ''),
            'shape': list(t.shape),
            'stride': list(t.stride()),
            'storageOffset': t.storage_offset(),
            'sum': float(values.sum()) if values.numel() else 0.0,
        }
        if values.numel() <= 256:
            entry['values'] = [float(v) for v in values]
        else:
            entry['first'] = [float(v) for v in values[:8]]
        expected['tensors'].append(entry)
    with open(os.path.join(out_dir, 'converter-fixture.json'), 'w') as f:
        f.write('{"torch": %s, "tensors": [\n' % json.dumps(expected['torch']))
        f.write(',\n'.join(json.dumps(e) for e in expected['tensors']))
        f.write('\n]}\n')
    print(pt, os.path.getsize(pt), 'bytes')


if __name__ == '__main__':
    main()
