<?php
// The tutorials' raw socket client, as a PHP developer writes it with ext-sockets: connect to
// Herald's TCP port, send the Herald protocol one JSON object per line, read lines back. It
// subscribes to a channel, prints "ready" once subscribed, then prints the data of the first
// publication it receives and exits 0 (exit 1 on any failure or after 20 s).
// Usage: php socket_subscriber.php HOST PORT CHANNEL

[$_, $host, $port, $channel] = $argv;
$sock = socket_create(AF_INET, SOCK_STREAM, SOL_TCP);
if ($sock === false || !socket_connect($sock, $host, (int)$port)) {
    fwrite(STDERR, "connect failed: " . socket_strerror(socket_last_error()) . "\n");
    exit(1);
}
socket_set_option($sock, SOL_SOCKET, SO_RCVTIMEO, ['sec' => 20, 'usec' => 0]);
$commands = json_encode(['id' => 1, 'method' => 'connect']) . "\n"
    . json_encode(['id' => 2, 'method' => 'subscribe', 'params' => ['channel' => $channel]]) . "\n";
socket_write($sock, $commands, strlen($commands));

$buffer = '';
while (true) {
    $chunk = socket_read($sock, 65536, PHP_BINARY_READ);
    if ($chunk === false || $chunk === '') {
        fwrite(STDERR, "read failed or closed: " . socket_strerror(socket_last_error($sock)) . "\n");
        exit(1);
    }
    $buffer .= $chunk;
    while (($nl = strpos($buffer, "\n")) !== false) {
        $line = substr($buffer, 0, $nl);
        $buffer = substr($buffer, $nl + 1);
        if ($line === '') {
            continue;  // a keepalive
        }
        $msg = json_decode($line, true);
        if (isset($msg['error'])) {
            fwrite(STDERR, "error: $line\n");
            exit(1);
        }
        if (($msg['id'] ?? 0) === 2) {
            echo "ready\n";
            flush();
        }
        if (($msg['push'] ?? '') === 'message') {
            echo json_encode($msg['data']), "\n";
            socket_close($sock);
            exit(0);
        }
    }
}
