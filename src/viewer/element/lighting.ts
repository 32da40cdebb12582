import { DirectionalLight, Group, HemisphereLight } from 'three/webgpu';

/**
 * A portrait-studio rig about the head (the viewer turns it with the camera's orbit): a soft
 * sky/ground fill, a white key light high on the subject's left front, a cooler fill on the right,
 * and a rim light behind that separates hair and ears from the background. Intensities suit
 * roughness-0.8, metal-0 skin with Neutral tone mapping at exposure 1: a surface facing the camera
 * comes out near its base colour. (Neutral tone mapping subtracts a 0.04 toe, which saturates dim
 * colours; a warm key under-lit at 0.75 turned a khaki hair palette of 148,131,89 to 97,82,39 on
 * the back of a head, now 139,122,75.)
 *
 * @example
 * scene.add(createStudioLights());
 */
export function createStudioLights(): Group {
  const rig = new Group();
  rig.name = 'head3d-studio-lights';
  rig.add(new HemisphereLight(0xffffff, 0x3a3633, 1.43));
  const key = new DirectionalLight(0xffffff, 2.86);
  key.position.set(1.2, 1.4, 2.0);
  const fill = new DirectionalLight(0xe6eeff, 0.91);
  fill.position.set(-2.0, 0.3, 1.2);
  const rim = new DirectionalLight(0xffffff, 1.82);
  rim.position.set(0.3, 1.5, -2.2);
  for (const light of [key, fill, rim]) {
    light.target.position.set(0, 0, 0);
    rig.add(light, light.target);
  }
  return rig;
}
