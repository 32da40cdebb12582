/**
 * Named points of the 478-point MediaPipe face mesh that @vladmandic/human returns. "Right" and
 * "left" are the subject's own: the subject's right eye is on the image's left in a frontal photo.
 */
export const LANDMARK = {
  rightEyeOuter: 33,
  rightEyeInner: 133,
  leftEyeInner: 362,
  leftEyeOuter: 263,
  mouthRight: 61,
  mouthLeft: 291,
  noseTip: 1,
  chin: 152,
  foreheadTop: 10,
} as const;

/** Face-contour points: on a turned head they slide along the visible outline, so the pose fit skips them. */
export const SILHOUETTE = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
  152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];

/** The 468 face points (without the irises). */
export const FACE_POINT_COUNT = 468;

export type Point2 = [number, number];

/** Eye centres (between the eye corners, which stay put when the eyes are closed) and mouth corners. */
export function faceKeyPoints(landmarks: ArrayLike<number>[]): { rightEye: Point2; leftEye: Point2; mouthRight: Point2; mouthLeft: Point2 } {
  const mid = (a: number, b: number): Point2 => [
    (landmarks[a][0] + landmarks[b][0]) / 2,
    (landmarks[a][1] + landmarks[b][1]) / 2,
  ];
  const at = (i: number): Point2 => [landmarks[i][0], landmarks[i][1]];
  return {
    rightEye: mid(LANDMARK.rightEyeOuter, LANDMARK.rightEyeInner),
    leftEye: mid(LANDMARK.leftEyeInner, LANDMARK.leftEyeOuter),
    mouthRight: at(LANDMARK.mouthRight),
    mouthLeft: at(LANDMARK.mouthLeft),
  };
}
