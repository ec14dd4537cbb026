package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tributary.api.Runtimes.Offer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The interpreters of this machine, as a node finds them from its configuration. */
class RuntimeSettingsTest {

  private static Map<String, Offer> offers(String config) {
    return RuntimeSettings.fromConfig(ConfigFactory.parseString(config).withFallback(ConfigFactory.load()))
        .interpreters().offers();
  }

  @Test
  void theDefaultsFindTheMachinesInterpreters() {
    Map<String, Offer> offers = offers("");
    assertTrue(offers.get("java17").exact(), "the node's own JDK: " + offers);
    assertTrue(offers.get("python3.11").runtimeVersion().startsWith("python:3."), offers.toString());
    assertTrue(RuntimeSettings.fromConfig(ConfigFactory.load()).interpreters().of("python3.11").orElseThrow()
        .command().startsWith("/"), "an interpreter's own file, not a name for the environment's PATH");
    assertTrue(offers.containsKey("nodejs20.x"), offers.toString());
    assertTrue(offers.get("provided.al2023").exact());
  }

  @Test
  void exactInterpretersOffersOnlyTheIdsOfTheReleasesInstalled() {
    Map<String, Offer> offers = offers("tributary.runtime.exact-interpreters = on\n"
        + "tributary.runtime.interpreters.python = [\"/usr/bin/python3\"]");
    assertTrue(offers.values().stream().allMatch(Offer::exact), offers.toString());
    assertTrue(offers.containsKey("python3.11"), offers.toString());
    assertFalse(offers.containsKey("python3.12"), offers.toString());
    assertFalse(offers.containsKey("java11"), offers.toString());
  }

  @Test
  void aRuntimeIdKeyAsConfiguredBeforeIsOneMoreCandidate() {
    Map<String, Offer> offers = offers("tributary.runtime.interpreters { python = [], \"python3.11\" = \"python3\" }");
    assertTrue(offers.get("python3.11").runtimeVersion().startsWith("python:3.11."), offers.toString());
  }

  @Test
  void aKeyThatIsNeitherALanguageNorARuntimeIdIsAConfigurationError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> offers("tributary.runtime.interpreters.ruby = \"ruby\""));
    assertEquals("tributary.runtime.interpreters.ruby is neither a language (python, nodejs, java: a list of "
        + "commands) nor a runtime id Tributary runs (a command)", e.getMessage());
  }
}
