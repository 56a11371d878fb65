/**
 * What the server asks of the monitoring plugged into it ({@link dev.berth.server.spi.ServerMonitoring}):
 * the server owns these types and monitoring implements them, so the protocol front ends need no
 * metrics library and the {@code server} module does not depend on {@code monitoring}.
 */
package dev.berth.server.spi;
