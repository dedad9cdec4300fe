package dev.ferry.resources;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Encrypts what the platform keeps for services (secret values, database passwords) with AES-256-GCM:
 * a random 12-byte nonce per value, and the value's place ({@code service/kind/name}) as associated
 * data, so a ciphertext copied to another row does not decrypt. The key is {@code FERRY_SECRETS_KEY}
 * (32 bytes, base64) or else {@code <data dir>/secrets.key}, generated on first use with mode 0600.
 */
public final class Vault {

  private static final Logger log = LoggerFactory.getLogger(Vault.class);
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;

  private Vault(byte[] key) {
    this.key = new SecretKeySpec(key, "AES");
  }

  /** A value that cannot be decrypted: the key changed, or the stored bytes did. */
  public static final class WrongKey extends RuntimeException {
    WrongKey(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * The vault of {@code configured} (base64 of 32 bytes) if set, else of {@code keyFile}, which is
   * created (mode 0600) if absent.
   */
  public static Vault open(String configured, Path keyFile) throws IOException {
    if (configured != null && !configured.isBlank()) return new Vault(decode(configured.trim(), "FERRY_SECRETS_KEY"));
    if (!Files.exists(keyFile)) {
      byte[] fresh = randomBytes(32);
      try {
        Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(keyFile, Base64.getEncoder().encodeToString(fresh) + "\n", StandardOpenOption.TRUNCATE_EXISTING);
        log.info("Generated the secrets key {} (mode 0600); keep it with backups of the data dir, or set FERRY_SECRETS_KEY", keyFile);
      } catch (FileAlreadyExistsException raced) {
        // another platform on this data dir wrote it first: use theirs
      }
    }
    return new Vault(decode(Files.readString(keyFile).trim(), keyFile.toString()));
  }

  private static byte[] decode(String base64, String where) {
    byte[] k;
    try {
      k = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + " is not base64: it must be 32 random bytes in base64 (openssl rand -base64 32)");
    }
    if (k.length != 32) {
      throw new IllegalArgumentException(where + " holds " + k.length + " bytes: it must be 32 random bytes in base64 (openssl rand -base64 32)");
    }
    return k;
  }

  /** {@code n} bytes from a strong random source. */
  public static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /** A random password: 32 characters of base64url (192 bits). */
  public static String randomPassword() {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(24));
  }

  /** Nonce, then ciphertext and tag. */
  public byte[] encrypt(String plain, String place) {
    byte[] nonce = randomBytes(NONCE_BYTES);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(place.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = c.doFinal(plain.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available: " + e, e);
    }
  }

  /** The plain text of {@link #encrypt}'s output for the same {@code place}; {@link WrongKey} if it does not open. */
  public String decrypt(byte[] stored, String place) {
    if (stored == null || stored.length < NONCE_BYTES + TAG_BITS / 8) throw new WrongKey("The stored value of " + place + " is damaged");
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, stored, 0, NONCE_BYTES));
      c.updateAAD(place.getBytes(StandardCharsets.UTF_8));
      return new String(c.doFinal(stored, NONCE_BYTES, stored.length - NONCE_BYTES), StandardCharsets.UTF_8);
    } catch (AEADBadTagException e) {
      throw new WrongKey("The stored value of " + place + " does not decrypt with the current secrets key "
          + "(did FERRY_SECRETS_KEY or <data dir>/secrets.key change?)");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available: " + e, e);
    }
  }
}
