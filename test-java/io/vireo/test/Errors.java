package io.vireo.test;

import static io.vireo.test.Errors.assertVireo;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vireo.exception.ErrorType;
import io.vireo.exception.VireoException;
import org.junit.jupiter.api.function.Executable;

/** Assertions on Vireo's errors by type (the types without a class of their own). */
final class Errors {
  private Errors() {}

  /** Asserts that {@code error} (unwrapped) is a VireoException of {@code type} or a subtype; returns it. */
  static VireoException assertVireo(ErrorType type, Throwable error) {
    VireoException e = assertInstanceOf(VireoException.class, VireoException.unwrap(error));
    assertTrue(e.isA(type), () -> "expected a " + type + ", got " + e.getType() + ": " + e.getMessage());
    return e;
  }

  /** Asserts that {@code body} throws a VireoException of {@code type} or a subtype; returns it. */
  static VireoException assertVireo(ErrorType type, Executable body) {
    return assertVireo(type, assertThrows(VireoException.class, body));
  }
}
