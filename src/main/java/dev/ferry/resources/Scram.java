package dev.ferry.resources;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * PostgreSQL's SCRAM-SHA-256 password verifier ({@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>},
 * RFC 5802/7677), computed here so that a role's password never travels to the server, nor into its
 * statement log, in the clear. Passwords are ASCII, which SASLprep leaves as they are.
 */
final class Scram {

  static final int ITERATIONS = 4096;

  private Scram() {
  }

  static String verifier(String password) {
    byte[] salt = Vault.randomBytes(16);
    try {
      byte[] salted = pbkdf2(password.getBytes(StandardCharsets.UTF_8), salt, ITERATIONS);
      byte[] clientKey = hmac(salted, "Client Key");
      byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
      byte[] serverKey = hmac(salted, "Server Key");
      Base64.Encoder b64 = Base64.getEncoder();
      return "SCRAM-SHA-256$" + ITERATIONS + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey) + ":"
          + b64.encodeToString(serverKey);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available: " + e, e);
    }
  }

  /** PBKDF2-HMAC-SHA-256 with one block: Hi() of RFC 5802. */
  private static byte[] pbkdf2(byte[] password, byte[] salt, int iterations) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(password, "HmacSHA256"));
    mac.update(salt);
    byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
    byte[] result = u.clone();
    for (int i = 1; i < iterations; i++) {
      u = mac.doFinal(u);
      for (int j = 0; j < result.length; j++) result[j] ^= u[j];
    }
    return result;
  }

  private static byte[] hmac(byte[] key, String text) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(text.getBytes(StandardCharsets.US_ASCII));
  }
}
