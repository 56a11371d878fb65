package dev.berth.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the outside-in fuzzer (conformance FuzzIT) found wrong in the REST port's HTTP handling, on a
 * real socket, byte for byte: each case is now answered with a status and a JSON error, where before
 * it got a 500 or a closed connection without a byte.
 */
class FuzzFindingsHttpTest {
    @RegisterExtension
    static final CasesServer SERVER = CasesServer.create();

    private static final String BODY = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[],\"data\":1.5}]}";

    private static RawHttp.Answer exchange(String request) throws Exception {
        return SERVER.exchange(request);
    }

    private static void assertJsonError(RawHttp.Answer a, int status, String fragment) throws Exception {
        assertEquals(status, a.status(), a.statusLine() + " " + a.text());
        String error = Cases.JSON.readTree(a.body()).path("error").asText();
        assertTrue(error.contains(fragment), "expected '" + fragment + "' in " + a.text());
    }

    @Test
    void aBodyCutShortByTheClientsCloseIsA400NotA500() throws Exception {
        // was: 500 "internal server error" and a SEVERE stack trace per request (Helidon's reader hit the end)
        try (RawHttp http = new RawHttp(SERVER.port())) {
            http.send("POST /v2/models/scalar_io/infer HTTP/1.1\r\nHost: x\r\nContent-Length: " + (BODY.length() + 10)
                    + "\r\n\r\n" + BODY).shutdownOutput();
            RawHttp.Answer a = http.read();
            assertJsonError(a, 400, "Content-Length");
            assertEquals("close", a.header("connection"));
        }
    }

    @Test
    void aChunkSizeThatIsNotHexadecimalIsA400NotA500() throws Exception {
        RawHttp.Answer a = exchange("POST /v2/models/scalar_io/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "zz\r\n" + BODY + "\r\n0\r\n\r\n");
        assertJsonError(a, 400, "chunk");
        assertEquals("close", a.header("connection"));
        String chunked = Integer.toHexString(BODY.length()) + "\r\n" + BODY + "\r\n0\r\n\r\n";
        assertEquals(200, exchange("POST /v2/models/scalar_io/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunked).status());
    }

    @Test
    void requestLinesOfOtherVersionsOrOfNoneAreAnsweredNotDropped() throws Exception {
        // was: Helidon's connection selector closed each of these without a byte
        for (String line : new String[] {"GET /v2/health/live HTTP/1.2", "GET /v2/health/live HTTP/2.0",
                "GET /v2/health/live http/1.1", "GET /v2/health/live", "hello"}) {
            assertJsonError(exchange(line + "\r\nHost: x\r\n\r\n"), 400, "malformed");
        }
    }

    @Test
    void emptyLinesBeforeTheRequestLineAreSkipped() throws Exception {
        // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line (was: closed)
        RawHttp.Answer a = exchange("\r\n\r\nGET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(200, a.status(), a.text());
        assertEquals("{\"live\":true}", a.text());
    }

    @Test
    void theInferenceHeaderLengthIsDigitsOnly() throws Exception {
        // was: "+N" read as N by Integer.parseInt
        String head = "POST /v2/models/scalar_io/infer HTTP/1.1\r\nHost: x\r\nContent-Length: " + BODY.length()
                + "\r\nInference-Header-Content-Length: ";
        assertJsonError(exchange(head + "+" + BODY.length() + "\r\n\r\n" + BODY), 400, "Inference-Header-Content-Length");
        assertEquals(200, exchange(head + BODY.length() + "\r\n\r\n" + BODY).status());
    }

    @Test
    void aRequestLineEndedByABareLineFeedIsAnswered() throws Exception {
        // was: closed without a byte; Helidon's parser now gives it an answer
        RawHttp.Answer a = exchange("POST /v2/models/scalar_io/infer HTTP/1.1\nHost: x\nContent-Length: " + BODY.length()
                + "\r\n\r\n" + BODY);
        assertTrue(a.status() == 200 || a.status() == 400, a.statusLine() + " " + a.text());
        if (a.status() == 400) {
            assertJsonError(a, 400, "malformed");
        }
    }
}
