package dev.warden.server.identity.oidc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * Reads JSON from tokens and from the provider with bounds (THREATS AU06): nesting at most {@value
 * #MAX_DEPTH} deep, no duplicate member names (a second {@code sub} must not silently win or lose),
 * nothing after the value, and bounded strings and numbers.
 */
final class BoundedJson {
  static final int MAX_DEPTH = 16;

  private static final ObjectMapper MAPPER =
      new ObjectMapper(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(MAX_DEPTH)
                          .maxStringLength(256 * 1024)
                          .maxNumberLength(40)
                          .maxNameLength(1024)
                          .build())
                  .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                  .build())
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private BoundedJson() {}

  /** The JSON object in {@code bytes}; the exception says what is wrong, never the content. */
  static JsonNode readObject(byte[] bytes, String what) throws InvalidJson {
    JsonNode node;
    try {
      node = MAPPER.readTree(bytes);
    } catch (StreamConstraintsException e) {
      throw new InvalidJson(what + " exceeds a JSON limit (nesting, string or number length)");
    } catch (JsonProcessingException e) {
      String problem = e.getOriginalMessage();
      if (problem != null && problem.startsWith("Duplicate field")) {
        throw new InvalidJson(what + " has a duplicate member name");
      }
      throw new InvalidJson(what + " is not valid JSON");
    } catch (IOException e) {
      throw new InvalidJson(what + " cannot be read");
    }
    if (node == null || !node.isObject()) {
      throw new InvalidJson(what + " is not a JSON object");
    }
    return node;
  }

  /** JSON that breaks the bounds or the grammar; the message never quotes the input. */
  static final class InvalidJson extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidJson(String message) {
      super(message);
    }
  }
}
