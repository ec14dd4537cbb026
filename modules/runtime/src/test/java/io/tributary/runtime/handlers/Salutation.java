package io.tributary.runtime.handlers;

/** A library class that tests ship in a layer's {@code java/lib/*.jar}, not in the function's zip. */
public final class Salutation {

  private Salutation() {}

  public static String of(String name) {
    return "Salut, " + name;
  }
}
