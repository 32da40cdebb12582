import { type ValidationMessage, validateBytes } from 'gltf-validator';

/** The validator's code for an attribute name outside the core spec (every KHR_gaussian_splatting:* attribute). */
export const INVALID_ATTRIBUTE_CODE = 'MESH_PRIMITIVE_INVALID_ATTRIBUTE';

export interface ValidationSummary {
  errors: number;
  warnings: number;
  infos: number;
  /** Error and warning messages, `CODE at pointer: message`. */
  messages: string[];
  /** Errors that were ignored on request, by code. */
  ignored: Record<string, number>;
}

export interface ValidateOptions {
  /** Error codes not counted as errors, e.g. INVALID_ATTRIBUTE_CODE for splat files. */
  ignoredErrors?: string[];
  /**
   * Only ignore `ignoredErrors` messages whose JSON pointer's attribute name starts with this
   * prefix, e.g. "KHR_gaussian_splatting:" (default: ignore them wherever they are).
   */
  ignoredAttributePrefix?: string;
}

/** Runs Khronos' glTF-Validator over a .glb and counts its findings. */
export async function validateGlb(bytes: Uint8Array, options: ValidateOptions = {}): Promise<ValidationSummary> {
  const report = await validateBytes(bytes, { maxIssues: 1000, writeTimestamp: false });
  const ignoredCodes = new Set(options.ignoredErrors ?? []);
  const summary: ValidationSummary = { errors: 0, warnings: 0, infos: 0, messages: [], ignored: {} };
  for (const message of report.issues.messages) {
    if (message.severity === 0 && ignoredCodes.has(message.code) && matchesPrefix(message, options.ignoredAttributePrefix)) {
      summary.ignored[message.code] = (summary.ignored[message.code] ?? 0) + 1;
      continue;
    }
    if (message.severity === 0) summary.errors++;
    else if (message.severity === 1) summary.warnings++;
    else summary.infos++;
    if (message.severity <= 1) summary.messages.push(`${message.code} at ${message.pointer ?? '?'}: ${message.message}`);
  }
  return summary;
}

function matchesPrefix(message: ValidationMessage, prefix: string | undefined): boolean {
  if (!prefix) return true;
  const attribute = message.pointer?.split('/').pop() ?? '';
  return attribute.startsWith(prefix) || message.message.includes(prefix);
}
