package dev.warden;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The direction of dependencies between Warden's parts (DESIGN.md §3): {@code protocol ← proxy →
 * core ← store}, the server depends on everything, nothing depends on the server, and there are no
 * cycles between the parts.
 */
class ArchitectureTest {
  private static JavaClasses warden;

  private static final Pattern OTHER_TARGET_TEST_CLASSES =
      Pattern.compile(".*/target-[^/]+/test-classes/.*");

  @BeforeAll
  static void importMainClasses() {
    warden =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TEST_FIXTURES)
            // Test classes built into another target directory (-Dwarden.target=...) too.
            .withImportOption(location -> !location.matches(OTHER_TARGET_TEST_CLASSES))
            .importPackages("dev.warden");
  }

  @Test
  void coreDependsOnNoOtherPartAndNoWireDatabaseOrHttpLibrary() {
    noClasses()
        .that()
        .resideInAPackage("dev.warden.core..")
        .should()
        .dependOnClassesThat(
            resideInAPackage("dev.warden..").and(not(resideInAPackage("dev.warden.core.."))))
        .orShould()
        .dependOnClassesThat(
            resideInAnyPackage(
                "io.netty..",
                "java.sql..",
                "javax.sql..",
                "org.postgresql..",
                "java.net.http..",
                "com.sun.net.httpserver.."))
        .because("the core is protocol-neutral and knows no database, wire or HTTP")
        .check(warden);
  }

  @Test
  void protocolCodecsKnowNoGovernance() {
    noClasses()
        .that()
        .resideInAPackage("dev.warden.protocol..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.warden.core..", "dev.warden.proxy..", "dev.warden.store..", "dev.warden.server..")
        .check(warden);
  }

  @Test
  void storesKnowNoWireProtocol() {
    noClasses()
        .that()
        .resideInAPackage("dev.warden.store..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.warden.protocol..", "dev.warden.proxy..", "dev.warden.server..")
        .check(warden);
  }

  @Test
  void theProxyKnowsNoStore() {
    noClasses()
        .that()
        .resideInAPackage("dev.warden.proxy..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.warden.store..", "dev.warden.server..")
        .check(warden);
  }

  @Test
  void nothingDependsOnTheServer() {
    noClasses()
        .that()
        .resideInAPackage("dev.warden..")
        .and()
        .resideOutsideOfPackage("dev.warden.server..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.warden.server..")
        .check(warden);
  }

  @Test
  void thePartsHaveNoCycles() {
    slices().matching("dev.warden.(*)..").should().beFreeOfCycles().check(warden);
  }

  @Test
  void theFeaturePackagesOfEachPartHaveNoCycles() {
    slices().matching("dev.warden.(*).(*)..").should().beFreeOfCycles().check(warden);
  }
}
