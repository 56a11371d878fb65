package dev.berth.server;

import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.WritableHeaders;
import io.helidon.http.encoding.ContentDecoder;
import io.helidon.http.encoding.ContentEncoder;
import io.helidon.http.encoding.ContentEncoding;
import io.helidon.http.encoding.ContentEncodingContext;
import io.helidon.http.encoding.ContentEncodingContextConfig;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;

/**
 * The content codings of REST bodies: {@code gzip} (also {@code x-gzip}), {@code deflate} and
 * {@code identity}, in both directions.
 *
 * <p>Requests are decoded by Helidon through {@link #requestDecoding()} (what tritonclient's
 * {@code request_compression_algorithm} sends); the size limit applies to the decoded body, which the
 * REST service reads through a bounded read, so a zip bomb inflates at most the limit before its 413.
 * Corrupt data surfaces as {@link CorruptBody} on the first read. Helidon answers any other coding
 * itself (turned into 415 by BerthServer's direct handlers).
 *
 * <p>Responses are compressed by berth, not by Helidon's encoders, because those compress every body
 * however small, drop Content-Length (so HEAD and HTTP/1.0 lose it), send no {@code Vary} and pick an
 * encoding the client refused with {@code q=0}. {@link #negotiate} reads Accept-Encoding;
 * {@link Coding#encode} compresses at level 1, which measured within a few percent of level 6's size on
 * OIP answers at a fraction of the CPU (docs/server.md).
 */
final class ContentCodings {
    /** Answers shorter than this go out uncompressed: with their headers they fit one TCP segment anyway. */
    static final int DEFAULT_MIN_BYTES = 1024;

    private ContentCodings() {
    }

    /** A response coding berth can produce. */
    enum Coding {
        IDENTITY(null), GZIP("gzip"), DEFLATE("deflate");

        /** The Content-Encoding token, null for identity. */
        final String token;

        Coding(String token) {
            this.token = token;
        }

        /** Where the plain body is written to come out coded in {@code sink}; closing it finishes the coding. */
        OutputStream wrap(OutputStream sink) throws IOException {
            return switch (this) {
                case IDENTITY -> sink;
                case GZIP -> new GZIPOutputStream(sink, 8192) {
                    {
                        def.setLevel(Deflater.BEST_SPEED);
                    }
                };
                case DEFLATE -> {
                    // HTTP's "deflate" is the zlib format (RFC 9110 8.4.1.2), which is what clients inflate
                    Deflater deflater = new Deflater(Deflater.BEST_SPEED);
                    yield new DeflaterOutputStream(sink, deflater, 8192) {
                        @Override
                        public void close() throws IOException {
                            try {
                                super.close();
                            } finally {
                                deflater.end(); // native memory, not left to the garbage collector
                            }
                        }
                    };
                }
            };
        }

        /** The body coded; the same array for identity. */
        byte[] encode(byte[] body) {
            if (this == IDENTITY) {
                return body;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 2 + 64);
            try (OutputStream coded = wrap(out)) {
                coded.write(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // in memory: cannot happen
            }
            return out.toByteArray();
        }
    }

    /**
     * The coding for a response to a request with these headers: gzip or deflate when Accept-Encoding
     * lists one with a q-value above 0 (the higher q wins, gzip on a tie; {@code *} means gzip), else
     * identity. Unparsable q-values count as 0.
     */
    static Coding negotiate(Headers requestHeaders) {
        if (!requestHeaders.contains(HeaderNames.ACCEPT_ENCODING)) {
            return Coding.IDENTITY;
        }
        double gzip = -1;
        double deflate = -1;
        double any = -1;
        for (String value : requestHeaders.values(HeaderNames.ACCEPT_ENCODING)) {
            for (String item : value.split(",")) {
                String[] parts = item.split(";");
                String coding = parts[0].trim().toLowerCase(Locale.ROOT);
                double q = 1;
                for (int i = 1; i < parts.length; i++) {
                    String p = parts[i].trim();
                    if (p.length() > 2 && (p.charAt(0) == 'q' || p.charAt(0) == 'Q') && p.charAt(1) == '=') {
                        try {
                            q = Double.parseDouble(p.substring(2));
                        } catch (NumberFormatException e) {
                            q = 0;
                        }
                    }
                }
                switch (coding) {
                    case "gzip", "x-gzip" -> gzip = Math.max(gzip, q);
                    case "deflate" -> deflate = Math.max(deflate, q);
                    case "*" -> any = Math.max(any, q);
                    default -> {
                    }
                }
            }
        }
        if (gzip < 0) {
            gzip = any; // "*" covers the codings not named
        }
        if (gzip > 0 && gzip >= deflate) {
            return Coding.GZIP;
        }
        return deflate > 0 ? Coding.DEFLATE : Coding.IDENTITY;
    }

    /**
     * Helidon's request decoding: gzip, x-gzip and deflate decoders (Helidon adds identity itself), and
     * no encoders, so that Helidon never compresses a response on its own.
     */
    static ContentEncodingContext requestDecoding() {
        return ContentEncodingContextConfig.builder()
                .contentEncodingsDiscoverServices(false)
                .addContentEncoding(new Decoding("gzip", Set.of("gzip", "x-gzip", "GZIP", "X-GZIP", "Gzip")))
                .addContentEncoding(new Decoding("deflate", Set.of("deflate", "DEFLATE", "Deflate")))
                .addContentEncoding(new Decoding("identity", Set.of("IDENTITY", "Identity")))
                .build();
    }

    /** Decoded data that is not what its Content-Encoding says (a 400 for the client). */
    static final class CorruptBody extends IOException {
        CorruptBody(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** One request coding as Helidon's content-encoding SPI sees it: decoding only. */
    private record Decoding(String name, Set<String> ids) implements ContentEncoding {
        @Override
        public String type() {
            return name;
        }

        @Override
        public boolean supportsEncoding() {
            return false;
        }

        @Override
        public boolean supportsDecoding() {
            return true;
        }

        @Override
        public ContentDecoder decoder() {
            return network -> name.equals("identity") ? network : new Decoded(network, name);
        }

        @Override
        public ContentEncoder encoder() {
            return new ContentEncoder() {
                @Override
                public OutputStream apply(OutputStream network) {
                    return network;
                }

                @Override
                public void headers(WritableHeaders<?> headers) {
                }
            };
        }
    }

    /**
     * The decoded body. The inflater is set up on the first read rather than when Helidon builds the
     * request, so that a body whose very header is wrong fails inside the handler's read (answered 400)
     * and not while Helidon prepares the request.
     */
    private static final class Decoded extends FilterInputStream {
        private final String coding;
        private boolean started;

        Decoded(InputStream network, String coding) {
            super(network);
            this.coding = coding;
        }

        private InputStream decoder() throws IOException {
            if (!started) {
                started = true;
                try {
                    in = coding.equals("gzip") ? new GZIPInputStream(in, 8192) : inflater(in);
                } catch (ZipException | EOFException e) {
                    throw corrupt(e);
                }
            }
            return in;
        }

        /** zlib-wrapped deflate as RFC 9110 defines it, or raw deflate as some old clients send it. */
        private static InputStream inflater(InputStream network) throws IOException {
            PushbackInputStream peek = new PushbackInputStream(network, 2);
            int b0 = peek.read();
            int b1 = peek.read();
            if (b1 >= 0) {
                peek.unread(b1);
            }
            if (b0 >= 0) {
                peek.unread(b0);
            }
            boolean zlib = b0 >= 0 && b1 >= 0 && (b0 & 0x0f) == 8 && ((b0 << 8) | b1) % 31 == 0;
            Inflater inflater = new Inflater(!zlib);
            return new InflaterInputStream(peek, inflater, 8192) {
                @Override
                public void close() throws IOException {
                    try {
                        super.close();
                    } finally {
                        inflater.end();
                    }
                }
            };
        }

        private CorruptBody corrupt(IOException e) {
            return new CorruptBody("the request body is not valid " + coding + " data ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        }

        @Override
        public int read() throws IOException {
            try {
                return decoder().read();
            } catch (ZipException | EOFException e) {
                throw corrupt(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return decoder().read(b, off, len);
            } catch (ZipException | EOFException e) {
                throw corrupt(e);
            }
        }

        @Override
        public long skip(long n) throws IOException {
            return decoder().skip(n);
        }

        @Override
        public int available() throws IOException {
            return started ? in.available() : 0;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
