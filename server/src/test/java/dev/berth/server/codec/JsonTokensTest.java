package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.berth.runtime.InferenceException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The shared token checks: parameter objects, expected structure, and Jackson's messages made fit for a client. */
class JsonTokensTest {
    private static final JsonFactory JSON = new JsonFactory();

    private static Map<String, Object> parameters(String json) throws IOException {
        try (JsonParser p = JSON.createParser(json)) {
            p.nextToken();
            return JsonTokens.readParameters(p, "input 't'");
        }
    }

    @Test
    void parametersKeepTheirOrderAndTypes() throws IOException {
        Map<String, Object> read = parameters("{\"b\":true,\"n\":3,\"big\":18446744073709551616,\"x\":0.5,\"s\":\"v\"}");
        assertEquals(List.of("b", "n", "big", "x", "s"), List.copyOf(read.keySet()));
        assertEquals(Boolean.TRUE, read.get("b"));
        assertEquals(3L, read.get("n"));
        assertEquals(new BigInteger("18446744073709551616"), read.get("big"));
        assertEquals(0.5, read.get("x"));
        assertEquals("v", read.get("s"));
        assertEquals(Map.of(), parameters("null"));
    }

    @Test
    void structuredParameterValuesAreRefusedByName() {
        for (String bad : List.of("{\"k\":{}}", "{\"k\":[1]}", "{\"k\":null}")) {
            String message = assertThrows(InferenceException.InvalidInput.class, () -> parameters(bad)).getMessage();
            assertTrue(message.startsWith("parameter 'k' of input 't' must be a boolean, a number or a string"), message);
        }
        String notObject = assertThrows(InferenceException.InvalidInput.class, () -> parameters("[1]")).getMessage();
        assertEquals("'parameters' of input 't' must be an object, got an array", notObject);
    }

    @Test
    void expectNamesWhatWasWantedAndWhatCame() {
        String message = assertThrows(InferenceException.InvalidInput.class,
                () -> JsonTokens.expect(null, JsonToken.VALUE_STRING, JsonToken.START_ARRAY, "'inputs'")).getMessage();
        assertEquals("'inputs' must be an array, got a string", message);
        assertEquals("#2", JsonTokens.label(null, 2));
        assertEquals("x", JsonTokens.label("x", 2));
    }

    @Test
    void malformedJsonIsDescribedWithoutJacksonsSwitchesOrSource() throws IOException {
        try (JsonParser p = JSON.createParser("{'a': 1}".getBytes(StandardCharsets.UTF_8))) {
            p.nextToken();
            p.nextToken();
            fail("single quotes are not JSON");
        } catch (JsonProcessingException e) {
            String message = JsonTokens.malformed(e).getMessage();
            assertTrue(message.startsWith("malformed JSON: "), message);
            assertTrue(message.endsWith(" at byte 1"), message);
            assertFalse(message.contains("JsonReadFeature"), message);
            assertFalse(message.contains("Source:"), message);
        }
    }
}
