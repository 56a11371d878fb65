package dev.berth.server;

import io.helidon.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flags win over environment variables, which win over the YAML file; and the server applies the result. */
class ServeSettingsTest {
    @TempDir
    Path tmp;

    private Path yaml() throws Exception {
        return Files.writeString(tmp.resolve("berth.yaml"), """
                berth:
                  models: /from/yaml
                  host: 0.0.0.0
                  port: 7001
                  grpc-port: 7002
                  max-request-bytes: 5000
                  repository-token: yaml-token
                """);
    }

    @Test
    void yamlAlone() throws Exception {
        Config c = ServeSettings.load(yaml(), Map.of(), Map.of());
        assertEquals("/from/yaml", c.get("models").asString().get());
        assertEquals(7001, c.get("port").asInt().get());
        assertEquals(7002, c.get("grpc-port").asInt().get());
        assertEquals("yaml-token", c.get("repository-token").asString().get());
    }

    @Test
    void environmentBeatsYamlAndFlagsBeatBoth() throws Exception {
        Map<String, String> env = Map.of("PORT", "7100", "BERTH_MODELS", "/from/env", "BERTH_HOST", "10.0.0.1");
        Config c = ServeSettings.load(yaml(), env, Map.of("host", "127.0.0.2"));
        assertEquals(7100, c.get("port").asInt().get(), "PORT beats the file");
        assertEquals("/from/env", c.get("models").asString().get());
        assertEquals("127.0.0.2", c.get("host").asString().get(), "the flag beats env and file");
        assertEquals(5000L, c.get("max-request-bytes").asLong().get(), "the file fills what nobody else set");

        Config both = ServeSettings.load(null, Map.of("PORT", "7100", "BERTH_PORT", "7200"), Map.of());
        assertEquals(7200, both.get("port").asInt().get(), "BERTH_PORT beats PORT");
        Config flag = ServeSettings.load(null, Map.of("PORT", "7100"), Map.of("port", "7300"));
        assertEquals(7300, flag.get("port").asInt().get());
    }

    @Test
    void nothingSetLeavesDefaults() {
        Config c = ServeSettings.load(null, Map.of(), Map.of());
        assertFalse(c.get("port").exists());
        try (BerthServer s = BerthServer.builder().inferenceService(new FakeCore()).config(c).port(0).build()) {
            assertEquals(BerthServer.DEFAULT_HOST, s.host());
        }
    }

    @Test
    void theServerUsesTheConfiguredValues() throws Exception {
        Config c = ServeSettings.load(null, Map.of(), Map.of("port", "0", "grpc-port", "0", "max-request-bytes", "2048"));
        try (BerthServer s = BerthServer.builder().inferenceService(new FakeCore()).config(c).build().start()) {
            assertTrue(s.port() > 0 && s.grpcPort() > 0 && s.port() != s.grpcPort());
            io.restassured.RestAssured.given().baseUri("http://127.0.0.1").port(s.port())
                    .body(new byte[4096]).post("/v2/models/echo/infer").then().statusCode(413);
        }
    }

    @Test
    void mistakesAreReported() {
        assertThrows(IllegalArgumentException.class, () -> ServeSettings.load(tmp.resolve("missing.yaml"), Map.of(), Map.of()));
        Config bad = ServeSettings.load(null, Map.of("PORT", "eighty"), Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BerthServer.builder().inferenceService(new FakeCore()).config(bad));
        assertTrue(e.getMessage().contains("port"), e.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> BerthServer.builder().inferenceService(new FakeCore()).port(70000).maxRequestBytes(1).build());
        assertTrue(range.getMessage().contains("port") && range.getMessage().contains("max request bytes"), range.getMessage());
    }
}
