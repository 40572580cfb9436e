import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PublicKeyFromCryptoKey, SecretKeyFromCryptoKey, type PublicKey, type SecretKey } from 'paseto/v4/public';
import { WarrenError } from '../../errors.js';
import { createPrivateFile, restrictToOwner } from './private-file.js';

export interface ServerKey {
  secretKey: SecretKey;
  publicKey: PublicKey;
  /** The key file was created by this call. */
  created: boolean;
  /** The key file was readable by group/others and has been narrowed to 0600. */
  modeFixed: boolean;
}

/**
 * The server's Ed25519 signing key, `<data>/server.key` as a PKCS#8 PEM (mode 0600): generated
 * the first time, loaded after. Every token this server accepts was signed with it.
 */
export async function openServerKey(file: string): Promise<ServerKey> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const created = !existsSync(file) && createPrivateFile(file, generatePem());
  const modeFixed = created ? false : restrictToOwner(file);
  const keys = await importServerKey(readFileSync(file, 'utf8'), file);
  return { ...keys, created, modeFixed };
}

/** A fresh Ed25519 private key as PKCS#8 PEM. */
export function generatePem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** PEM (PKCS#8 Ed25519) → the paseto v4.public key pair. */
export async function importServerKey(pem: string, source = 'server key'): Promise<{ secretKey: SecretKey; publicKey: PublicKey }> {
  let keyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (err) {
    throw new WarrenError('E_INTERNAL', `${source} is not a PEM private key: ${(err as Error).message}`, { file: source });
  }
  if (keyObject.asymmetricKeyType !== 'ed25519') {
    throw new WarrenError('E_INTERNAL', `${source} holds a ${keyObject.asymmetricKeyType} key; Warren signs tokens with Ed25519`, { file: source });
  }
  const pkcs8 = keyObject.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(keyObject).export({ format: 'der', type: 'spki' });
  // Extractable because Node 20's WebCrypto lacks getPublicKey(), which paseto needs otherwise.
  const secret = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
  const pub = await crypto.subtle.importKey('spki', spki, { name: 'Ed25519' }, true, ['verify']);
  return { secretKey: await SecretKeyFromCryptoKey(secret), publicKey: await PublicKeyFromCryptoKey(pub) };
}
