package dev.berth.monitoring;

/**
 * One scrape of the meters: the body and the content type to send it with.
 *
 * @param contentType Prometheus text format 0.0.4 or OpenMetrics 1.0.0
 * @param body        UTF-8 text
 */
public record Scrape(String contentType, byte[] body) {
    public String text() {
        return new String(body, java.nio.charset.StandardCharsets.UTF_8);
    }
}
