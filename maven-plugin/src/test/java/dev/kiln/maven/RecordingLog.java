package dev.kiln.maven;

import java.util.ArrayList;
import java.util.List;
import org.apache.maven.plugin.logging.Log;

/** Maven log that keeps every line with its level, so tests can assert on what a user sees. */
final class RecordingLog implements Log {

    enum Level { DEBUG, INFO, WARN, ERROR }

    record Line(Level level, String text) {
    }

    final List<Line> lines = new ArrayList<>();

    List<String> at(Level level) {
        return lines.stream().filter(l -> l.level() == level).map(Line::text).toList();
    }

    List<String> aboveDebug() {
        return lines.stream().filter(l -> l.level() != Level.DEBUG).map(Line::text).toList();
    }

    private void add(Level level, CharSequence content, Throwable error) {
        String text = content == null ? "" : content.toString();
        if (error != null) {
            text = text + (text.isEmpty() ? "" : " ") + error;
        }
        lines.add(new Line(level, text));
    }

    @Override public boolean isDebugEnabled() { return true; }
    @Override public void debug(CharSequence content) { add(Level.DEBUG, content, null); }
    @Override public void debug(CharSequence content, Throwable error) { add(Level.DEBUG, content, error); }
    @Override public void debug(Throwable error) { add(Level.DEBUG, null, error); }

    @Override public boolean isInfoEnabled() { return true; }
    @Override public void info(CharSequence content) { add(Level.INFO, content, null); }
    @Override public void info(CharSequence content, Throwable error) { add(Level.INFO, content, error); }
    @Override public void info(Throwable error) { add(Level.INFO, null, error); }

    @Override public boolean isWarnEnabled() { return true; }
    @Override public void warn(CharSequence content) { add(Level.WARN, content, null); }
    @Override public void warn(CharSequence content, Throwable error) { add(Level.WARN, content, error); }
    @Override public void warn(Throwable error) { add(Level.WARN, null, error); }

    @Override public boolean isErrorEnabled() { return true; }
    @Override public void error(CharSequence content) { add(Level.ERROR, content, null); }
    @Override public void error(CharSequence content, Throwable error) { add(Level.ERROR, content, error); }
    @Override public void error(Throwable error) { add(Level.ERROR, null, error); }
}
