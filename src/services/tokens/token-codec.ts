import { ClaimValidationError, PasetoError, PublicProtocol } from 'paseto';
import { SignFactory, VerifyFactory, type PublicKey, type SecretKey } from 'paseto/v4/public';
import { WarrenError } from '../../errors.js';
import { isTokenRole, type Principal, type TokenRole } from './token-role.js';

/** Tokens longer than this are refused before any parsing (a header is not a place for megabytes). */
export const MAX_TOKEN_CHARS = 4096;

const v4 = new PublicProtocol(SignFactory, VerifyFactory);

export interface TokenClaims {
  sub: string;
  role: TokenRole;
  namespaces: string[];
  jti: string;
  /** RFC 3339, as PASETO registers them. */
  iat: string;
  exp: string;
}

/** Signs the claims as a PASETO v4.public token. */
export async function signToken(key: SecretKey, claims: TokenClaims): Promise<string> {
  return v4.Sign(key, { ...claims, namespaces: [...claims.namespaces] }, { addIssuedAt: false });
}

/**
 * Checks the signature, purpose, framing and expiry of a token and the shape of its claims.
 * Does not look at revocation (that needs the registry). Errors: E_UNAUTHORIZED (empty),
 * E_TOKEN_INVALID (anything but a well-formed, well-signed v4.public token of ours),
 * E_TOKEN_EXPIRED.
 */
export async function verifyTokenSignature(key: PublicKey, token: string, now = new Date()): Promise<Principal> {
  if (token.length === 0) throw new WarrenError('E_UNAUTHORIZED', 'no token given: send Authorization: Bearer <token>');
  if (token.length > MAX_TOKEN_CHARS) throw new WarrenError('E_TOKEN_INVALID', `token is longer than ${MAX_TOKEN_CHARS} characters`, { length: token.length });
  let claims;
  try {
    ({ claims } = await v4.Verify(key, token, { now }));
  } catch (err) {
    if (err instanceof ClaimValidationError && err.claim === 'exp' && /expired/i.test(err.message)) {
      throw new WarrenError('E_TOKEN_EXPIRED', 'token has expired; ask an admin for a new one (warren token create)');
    }
    if (err instanceof PasetoError) throw new WarrenError('E_TOKEN_INVALID', `token is not valid: ${err.message}`);
    throw err;
  }
  const { sub, role, namespaces, jti, exp } = claims;
  if (
    typeof sub !== 'string' ||
    !isTokenRole(role) ||
    typeof jti !== 'string' ||
    typeof exp !== 'string' ||
    !Array.isArray(namespaces) ||
    !namespaces.every((ns): ns is string => typeof ns === 'string')
  ) {
    throw new WarrenError('E_TOKEN_INVALID', 'token claims are not those of a Warren token');
  }
  return { sub, role, namespaces: [...namespaces], jti, expiresAt: exp };
}
