/**
 * The camera ControlNet (`pose_control_model`, cldm `ControlNet`): the hint encoder turns the camera
 * image [B, 3, 8s, 8s] into [B, C, s, s] features added after input block 0; the UNet encoder and
 * middle block run in plain attention mode; 1×1 `zero_convs` on each of the 12 stored skips and
 * `middle_block_out` on the middle output give the 13 residuals (diffportrait360.md §9.4).
 */
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import { conv2d, silu } from '../onnx/layers.js';
import { encoder, middleBlock, type TrunkPass, unetLayout } from './unet.js';

/** `input_hint_block`: 8 3×3 convs (SiLU between), widths 16,16,32,32,96,96,256,C; convs 2, 4, 6 (0-based) have stride 2. */
export function hintEncoder(g: GraphBuilder, hint: Value, key: string, modelChannels: number): Value {
  const widths = [16, 16, 32, 32, 96, 96, 256, modelChannels];
  let h = hint;
  let inChannels = 3;
  widths.forEach((outChannels, i) => {
    const stride = i === 2 || i === 4 || i === 6 ? 2 : 1;
    h = conv2d(g, h, `${key}.${2 * i}`, { inChannels, outChannels, kernel: 3, stride, padding: 1 });
    if (i < widths.length - 1) h = silu(g, h);
    inChannels = outChannels;
  });
  return h;
}

/** Returns the 12 skip residuals then the middle one. `pass.prefix` is 'pose_control_model.'. */
export function controlNet(g: GraphBuilder, x: Value, hint: Value, pass: TrunkPass): Value[] {
  const layout = unetLayout(pass.config);
  const guided = hintEncoder(g, hint, `${pass.prefix}input_hint_block`, pass.config.unet.modelChannels);
  const { h, skips } = encoder(g, x, pass, guided);
  const residuals = skips.map((skip, i) => {
    const channels = layout.input[i]!.outChannels;
    return conv2d(g, skip, `${pass.prefix}zero_convs.${i}.0`, { inChannels: channels, outChannels: channels, kernel: 1 });
  });
  const middle = middleBlock(g, h, pass);
  const channels = layout.middle.channels;
  residuals.push(conv2d(g, middle, `${pass.prefix}middle_block_out.0`, { inChannels: channels, outChannels: channels, kernel: 1 }));
  return residuals;
}
