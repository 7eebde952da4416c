/**
 * Webhook secrets at rest. A receiver verifies signatures with the subscription's secret, so the
 * server must be able to sign with it after a restart; yet the subscription topic is readable by
 * whoever reads Kafka. The secret is therefore stored sealed: AES-256-GCM under a key derived
 * (HKDF-SHA256) from a master secret the server reads from `--webhook-secret-file`, with the
 * subscription id as associated data (a sealed secret copied onto another subscription does not
 * open). The clear secret is returned once, in the answer that creates the subscription.
 *
 * Sealed form: `v1.<key id>.<iv>.<ciphertext+tag>` (base64url). The key id (a digest of the
 * derived key, not the key) tells a server started with another master file which records it
 * cannot open, so it can say so instead of signing with garbage. Changing the master file makes
 * every stored secret unreadable: re-create the webhook subscriptions after a rotation.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, InputError } from '../../pipelines/core/errors.ts';

const MIN_MASTER_BYTES = 32;

export class WebhookKeyring {
  readonly id: string;
  private readonly key: Buffer;

  constructor(master: Buffer) {
    if (master.length < MIN_MASTER_BYTES) throw new Error(`master secret shorter than ${MIN_MASTER_BYTES} bytes`);
    this.key = Buffer.from(hkdfSync('sha256', master, 'panoptes-alerts', 'webhook-secrets-v1', 32));
    this.id = createHash('sha256').update('key-id').update(this.key).digest('base64url').slice(0, 12);
  }

  /**
   * Reads the master secret (surrounding whitespace trimmed). A missing, unreadable or short file is
   * a ConfigError on `path`; `warning` is set when the file is readable by group or others.
   */
  static fromFile(file: string, path = 'webhookSecretFile'): { keyring: WebhookKeyring; warning: string | null } {
    let text: Buffer;
    let mode: number;
    try {
      text = Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
      mode = statSync(file).mode;
    } catch (err) {
      throw new ConfigError([{ path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
    }
    if (text.length < MIN_MASTER_BYTES) throw new ConfigError([{ path, message: `${file} holds ${text.length} bytes; the master secret needs at least ${MIN_MASTER_BYTES} (e.g. openssl rand -base64 48 > ${file})` }]);
    const warning = (mode & 0o077) !== 0 ? `${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it` : null;
    return { keyring: new WebhookKeyring(text), warning };
  }

  seal(secret: string, subscriptionId: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(subscriptionId, 'utf8'));
    const ct = Buffer.concat([c.update(secret, 'utf8'), c.final(), c.getAuthTag()]);
    return `v1.${this.id}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
  }

  /** The clear secret; InputError when it was sealed under another master secret or altered. */
  open(sealed: string, subscriptionId: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') throw new InputError('sealed webhook secret in an unknown format');
    if (parts[1] !== this.id) throw new InputError(`webhook secret was sealed under another master secret (key ${parts[1]}, this server has ${this.id}): re-create the subscription or start with the former --webhook-secret-file`);
    const iv = Buffer.from(parts[2]!, 'base64url');
    const ct = Buffer.from(parts[3]!, 'base64url');
    if (iv.length !== 12 || ct.length < 17) throw new InputError('sealed webhook secret is truncated');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, iv);
      d.setAAD(Buffer.from(subscriptionId, 'utf8'));
      d.setAuthTag(ct.subarray(ct.length - 16));
      return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString('utf8');
    } catch {
      throw new InputError('sealed webhook secret does not open (altered, or sealed for another subscription)');
    }
  }
}
