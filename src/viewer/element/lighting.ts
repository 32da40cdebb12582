import { DirectionalLight, Group, HemisphereLight } from 'three/webgpu';

/**
 * A portrait-studio rig fixed in the world (the head turns under it): a soft sky/ground fill, a warm
 * key light high on the subject's left front, a cooler fill on the right, and a rim light behind
 * that separates hair and ears from the background. Intensities suit roughness-0.8, metal-0 skin
 * with Neutral tone mapping at exposure 1.
 *
 * @example
 * scene.add(createStudioLights());
 */
export function createStudioLights(): Group {
  const rig = new Group();
  rig.name = 'head3d-studio-lights';
  rig.add(new HemisphereLight(0xf4f1ee, 0x3a3633, 1.1));
  const key = new DirectionalLight(0xfff2e6, 2.2);
  key.position.set(1.2, 1.4, 2.0);
  const fill = new DirectionalLight(0xe6eeff, 0.7);
  fill.position.set(-2.0, 0.3, 1.2);
  const rim = new DirectionalLight(0xffffff, 1.4);
  rim.position.set(0.3, 1.5, -2.2);
  for (const light of [key, fill, rim]) {
    light.target.position.set(0, 0, 0);
    rig.add(light, light.target);
  }
  return rig;
}
