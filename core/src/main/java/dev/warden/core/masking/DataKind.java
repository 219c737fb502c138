package dev.warden.core.masking;

/**
 * The kinds of sensitive data Warden recognises, so that a data map can say which column holds what
 * and policy can choose a masking strategy per kind. New kinds may be added; code that switches
 * over this enum should expect that.
 */
public enum DataKind {
  EMAIL,
  PHONE,
  PAYMENT_CARD,
  IBAN,
  NATIONAL_ID,
  IP_ADDRESS,
  DATE_OF_BIRTH,
  PERSON_NAME,
  POSTAL_ADDRESS,
  PASSWORD,
  PASSWORD_HASH,
  JWT,
  PRIVATE_KEY,
  API_TOKEN
}
