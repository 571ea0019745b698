package esnode;

import org.elasticsearch.bootstrap.ServerArgs;
import org.elasticsearch.common.io.stream.OutputStreamStreamOutput;
import org.elasticsearch.common.settings.KeyStoreWrapper;
import org.elasticsearch.common.settings.Settings;

import java.io.FileOutputStream;
import java.nio.file.Path;

/**
 * The Elasticsearch server process reads its settings as a serialized ServerArgs from stdin
 * (normally written by the server-cli tool, which is not on Maven Central). Using the server's
 * own classes keeps the wire format right for whatever version is fetched.
 *
 * Usage: WriteServerArgs HOME CONFIG_DIR LOGS_DIR OUT_FILE key=value...
 */
public final class WriteServerArgs {
    private WriteServerArgs() {}

    public static void main(String[] args) throws Exception {
        Settings.Builder settings = Settings.builder().put("path.home", args[0]);
        for (int i = 4; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        ServerArgs serverArgs = new ServerArgs(
            false, // daemonize
            false, // quiet
            null, // pid file: the launcher keeps its own
            KeyStoreWrapper.create(), // empty keystore: no secure settings
            settings.build(),
            Path.of(args[1]),
            Path.of(args[2])
        );
        try (var out = new OutputStreamStreamOutput(new FileOutputStream(args[3]))) {
            serverArgs.writeTo(out);
        }
    }
}
