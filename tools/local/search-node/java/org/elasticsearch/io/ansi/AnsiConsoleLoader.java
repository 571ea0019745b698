package org.elasticsearch.io.ansi;

import java.util.function.Supplier;

/**
 * Stand-in for the distribution's lib/tools/ansi-console (not on Maven Central), which the server
 * always loads: a node run by the launcher has no interactive console, so there is none to give.
 */
public final class AnsiConsoleLoader implements Supplier<Object> {
    @Override
    public Object get() {
        return null;
    }
}
