package dev.berth.server.spi;

import java.nio.charset.StandardCharsets;

/**
 * One scrape of the meters, as {@code GET /metrics} sends it: the body and its content type.
 *
 * @param contentType Prometheus text format 0.0.4 or OpenMetrics 1.0.0
 * @param body        UTF-8 text
 */
public record Scrape(String contentType, byte[] body) {
    /** The body as text. */
    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
