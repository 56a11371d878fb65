package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.berth.runtime.InferenceException;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The token-level checks and messages that every OIP JSON reader shares. */
final class JsonTokens {
    private JsonTokens() {
    }

    /**
     * Jackson's messages name its own switches ("enable `JsonReadFeature...` to allow") and a
     * redacted source; a client needs neither, only what was wrong and where.
     */
    static InferenceException.InvalidInput malformed(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage())
                .replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)", "")
                .replaceAll(": enable `[^`]*` to allow", "")
                .replaceAll(", from `[^`]*`", "");
        return invalid("malformed JSON: " + message + location(e));
    }

    private static String location(JsonProcessingException e) {
        if (e.getLocation() == null) {
            return "";
        }
        return " at byte " + e.getLocation().getByteOffset();
    }

    static String label(String name, int index) {
        return name != null ? name : "#" + index;
    }

    /**
     * Reads a flat parameters object. The protocol's parameter values are booleans, numbers and
     * strings; an object, an array or null is refused by name rather than skipped, so that a
     * misspelt structure never passes as if the parameter were absent.
     */
    static Map<String, Object> readParameters(JsonParser p, String owner) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        expect(p, p.currentToken(), JsonToken.START_OBJECT, "'parameters' of " + owner);
        Map<String, Object> parameters = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken t = p.nextToken();
            switch (t) {
                case VALUE_TRUE -> parameters.put(key, Boolean.TRUE);
                case VALUE_FALSE -> parameters.put(key, Boolean.FALSE);
                case VALUE_STRING -> parameters.put(StrictUtf8.checkText(key, "a parameter name of " + owner),
                        StrictUtf8.checkText(p.getText(), "parameter '" + key + "' of " + owner));
                case VALUE_NUMBER_INT -> parameters.put(key, p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? p.getBigIntegerValue() : (Object) p.getLongValue());
                case VALUE_NUMBER_FLOAT -> parameters.put(key, p.getDoubleValue());
                default -> throw invalid("parameter '" + key + "' of " + owner
                        + " must be a boolean, a number or a string, got " + describe(t));
            }
        }
        return parameters;
    }

    static void expect(JsonParser p, JsonToken got, JsonToken wanted, String what) {
        if (got != wanted) {
            String kind = wanted == JsonToken.START_OBJECT ? "an object" : "an array";
            throw invalid(what + " must be " + kind + (got == null ? "" : ", got " + describe(got)));
        }
    }

    static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.name();
        };
    }

    static InferenceException.InvalidInput invalid(String message) {
        return Elements.invalid(message);
    }
}
