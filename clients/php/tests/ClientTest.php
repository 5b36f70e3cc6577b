<?php
// Runs Herald\Client against a real server (started by tests/integration/test_php.py):
//   php clients/php/tests/ClientTest.php http://127.0.0.1:PORT
// Prints "N passed, M failed" and exits non-zero on any failure.

declare(strict_types=1);

require __DIR__ . '/../src/Client.php';

use Herald\Client;
use Herald\Error;

$url = $argv[1] ?? 'http://127.0.0.1:8080';
// Given by test_php.py: the server's token secret, and a user it holds connected on "php:lobby"
// (with a token made here) that this test disconnects.
$secret = $argv[2] ?? null;
$connectedUser = $argv[3] ?? null;
$herald = new Client($url);
$passed = 0;
$failed = 0;

function check(bool $ok, string $what, mixed $got = null): void
{
    global $passed, $failed;
    if ($ok) {
        $passed++;
        echo "  ok   {$what}\n";
    } else {
        $failed++;
        echo "  FAIL {$what}: got " . json_encode($got) . "\n";
    }
}

function expect_error(callable $fn, int $code, string $what): void
{
    try {
        $fn();
        check(false, $what, 'no exception');
    } catch (Error $e) {
        check($e->getCode() === $code && $e->httpStatus >= 400, $what,
              [$e->getCode(), $e->httpStatus, $e->getMessage()]);
    }
}

$channel = 'php:' . bin2hex(random_bytes(4));
$r1 = $herald->publish($channel, ['text' => 'hello from PHP', 'n' => 1]);
check($r1['offset'] === 1 && is_string($r1['epoch']), 'publish returns offset 1 and an epoch', $r1);

$k1 = $herald->publish($channel, 'once', 'order-' . $channel);
$k2 = $herald->publish($channel, 'once', 'order-' . $channel);
check($k1 === $k2 && $k1['offset'] === 2, 'an idempotency key publishes once', [$k1, $k2]);

$h = $herald->history($channel);
check(count($h['publications']) === 2
      && $h['publications'][0]['data'] === ['text' => 'hello from PHP', 'n' => 1],
      'history returns both publications with their data', $h);
$since = $herald->history($channel, 1, $r1['epoch']);
check(array_column($since['publications'], 'offset') === [2], 'history since offset 1', $since);

$b = $herald->broadcast([$channel, $channel . ':other'], ['alert' => 'maintenance']);
check(array_column($b['results'], 'offset') === [3, 1], 'broadcast: one result per channel', $b);

check($herald->presenceStats($channel) === ['num_clients' => 0, 'num_users' => 0],
      'presence_stats of a channel nobody is in');
check($herald->presence($channel) === [], 'presence of a channel nobody is in');

expect_error(fn() => $herald->publish('bad channel', 1), 104, 'an invalid channel name: error 104');
expect_error(fn() => $herald->call('publish', ['channel' => $channel]), 102,
             'a missing field: error 102');
expect_error(fn() => $herald->call('fly'), 101, 'an unknown method: error 101');
expect_error(fn() => $herald->history($channel, 1, 'not-the-epoch'), 112,
             'a position of another epoch: error 112');

try {
    (new Client('http://127.0.0.1:1', null, 2.0))->publish($channel, 1);
    check(false, 'an unreachable server throws', 'no exception');
} catch (Error $e) {
    check($e->getCode() === 0 && $e->httpStatus === 0 && $e->temporary,
          'an unreachable server throws a temporary error', $e->getMessage());
}

$replies = $herald->batch([
    ['publish', ['channel' => $channel, 'data' => 'batched']],
    ['publish', ['channel' => $channel]],
    ['history', ['channel' => $channel, 'limit' => 0]],
]);
check(count($replies) === 3 && $replies[0]['result']['offset'] === 4
      && $replies[1]['error']['code'] === 102 && $replies[2]['result']['offset'] === 4,
      'batch: one reply per command, in order, errors in place', $replies);

$info = $herald->info();
check($info['protocol'] === 1 && is_string($info['version']) && $info['num_clients'] >= 0,
      'info reports version, protocol and counts', $info);

if ($secret !== null && $connectedUser !== null) {
    $lobby = $herald->channels('php:*');
    check(($lobby['php:lobby']['num_clients'] ?? 0) === 1, 'channels: php:lobby has 1 client',
          $lobby);
    check($herald->presenceStats('php:lobby') === ['num_clients' => 1, 'num_users' => 1],
          'the connected user counts as a user (its token was made by connectionToken)');
    $herald->disconnect($connectedUser);
    check(true, 'disconnect returns');
    expect_error(fn() => $herald->disconnect(''), 103, 'disconnect of an empty user: error 103');
}

$token = Client::connectionToken('s3cret-s3cret-s3cret-s3cret-s3cret', '42', ['name' => 'Ann'], 60);
[$h64, $p64, $s64] = explode('.', $token);
$claims = json_decode(base64_decode(strtr($p64, '-_', '+/')), true);
check($claims['sub'] === '42' && $claims['info'] === ['name' => 'Ann']
      && abs($claims['exp'] - time() - 60) <= 2, 'connectionToken carries sub, info and exp',
      $claims);

echo "php client: {$passed} passed, {$failed} failed\n";
exit($failed === 0 ? 0 : 1);
