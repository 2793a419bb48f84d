<?php
/**
 * php examples/php/test.php — the PHP client against a real daemon; exits non-zero on any failure.
 * Uses the daemon on $FIOGUARD_SOCKET, or starts one from $FIOGUARD_BIN (default .build/debug) with
 * the demo policy on a temporary socket and database, and stops it afterwards.
 */

declare(strict_types=1);

require __DIR__ . '/FioguardClient.php';

use Fioguard\Client;
use Fioguard\Error;
use Fioguard\Unreachable;

$examples = dirname(__DIR__);
$daemon = null;
$tmp = null;
$socket = getenv('FIOGUARD_SOCKET') ?: null;
register_shutdown_function(function () use (&$daemon, &$tmp) {
    if (is_resource($daemon)) {
        proc_terminate($daemon, 15);
        for ($i = 0; $i < 150 && proc_get_status($daemon)['running']; $i++) {
            usleep(100_000);
        }
        proc_close($daemon);
    }
    if ($tmp !== null) {
        array_map('unlink', glob("$tmp/*") ?: []);
        @rmdir($tmp);
    }
});
if ($socket === null) {
    $bin = getenv('FIOGUARD_BIN') ?: "$examples/../.build/debug";
    $tmp = sys_get_temp_dir() . '/fg-php-' . bin2hex(random_bytes(6));
    mkdir($tmp, 0700);
    $socket = "$tmp/fg.sock";
    $daemon = proc_open(["$bin/fioguard", 'serve', '--socket', $socket, '--database', "$tmp/db.sqlite",
        '--policy', "$examples/policy/demo-policy.json", '--log-level', 'warning'],
        [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$tmp/server.log", 'w'], 2 => ['file', "$tmp/server.log", 'a']], $pipes);
    for ($i = 0; $i < 300 && !file_exists($socket) && proc_get_status($daemon)['running']; $i++) {
        usleep(100_000);
    }
    if (!file_exists($socket)) {
        fwrite(STDERR, "fioguard did not start ($bin/fioguard):\n" . @file_get_contents("$tmp/server.log"));
        exit(1);
    }
}

$passed = 0;
$failed = 0;

function check(bool $ok, string $what): void
{
    if (!$ok) {
        throw new AssertionError($what);
    }
}

/** Runs $fn, which must throw Fioguard\Error; returns it. */
function rpcError(callable $fn): Error
{
    try {
        $fn();
    } catch (Error $e) {
        return $e;
    }
    throw new AssertionError('expected a Fioguard\Error');
}

function unique(string $prefix): string
{
    return $prefix . '-' . bin2hex(random_bytes(6));
}

$tests = [];
$fg = new Client($socket);
$consent = fn (string $subject, array $extra = []) => $fg->consentRecord(
    $subject, ['authentication'], 'php-test-1', 'checkbox', 'shop.example', 'DE', $extra + ['age' => 30]);

$tests['health and disclosure'] = function () use ($fg) {
    check(in_array($fg->systemHealth()['status'], ['ok', 'degraded'], true), 'health status');
    $d = $fg->policyDisclosure('DE', null, 'de-DE');
    check($d['purposes'] === ['authentication'], 'purposes');
    check($d['minors']['ageOfConsent'] === 16, 'age of consent in DE');
    check($fg->policyDisclosure('US', 'US-IL')['minors']['ageOfConsent'] === 18, 'age of consent in US-IL');
};

$tests['consent to deletion'] = function () use ($fg, $consent) {
    $subject = unique('php-flow');
    $facialId = unique('fid');
    check(isset($consent($subject)['consentId']), 'consent.record');
    check($fg->enrollAuthorize($subject, 'shop.example', 'DE', null, 'automatic')['allow'] === false,
        'automatic enrollment is denied');
    $decision = $fg->enrollAuthorize($subject, 'shop.example', 'DE');
    check($decision['allow'] === true, 'enroll.authorize allows: ' . json_encode($decision['reasons']));
    check($decision['fioOptions']['payload']['ticket'] === $decision['ticket'], 'fioOptions carry the ticket');
    check($fg->enrollComplete($decision['ticket'], $facialId)['subject'] === $subject, 'enroll.complete');
    check(rpcError(fn () => $fg->enrollComplete($decision['ticket'], $facialId . 'x'))->reason === 'TICKET_INVALID',
        'a ticket is single-use');

    $ids = $fg->facialIdShow($subject)['facialIds'];
    check(count($ids) === 1 && $ids[0]['facialId'] === $facialId && $ids[0]['status'] === 'active', 'facialId.show');
    check(isset($fg->facialIdTouch($subject)['lastAuthenticatedAt']), 'facialId.touch');

    $e = rpcError(fn () => $fg->facialIdDelete($subject));
    check($e->reason === 'CONFIRMATION_REQUIRED' && $e->rpcCode === -32005, 'delete needs confirm');
    $deletions = $fg->facialIdDelete($subject, null, true, 'user_request')['deletions'];
    check(array_column($deletions, 'facialId') === [$facialId], 'facialId.delete');
    check(in_array($fg->facialIdShow($subject)['facialIds'][0]['status'], ['deleting', 'deleted'], true),
        'marked for deletion');

    check(isset($fg->subjectErase($subject, true)['erasedAt']), 'subject.erase');
    check(rpcError(fn () => $fg->facialIdShow($subject))->reason === 'NOT_FOUND', 'erased subject is gone');
};

$tests['a minor needs a guardian; the error carries the decision'] = function () use ($consent) {
    $subject = unique('php-minor');
    $e = rpcError(fn () => $consent($subject, ['age' => 12]));
    check($e->reason === 'POLICY_DENIED' && $e->rpcCode === -32001, 'POLICY_DENIED');
    $failed = array_values(array_filter($e->decision()['reasons'], fn ($r) => !$r['passed']));
    check(array_column($failed, 'code') === ['GUARDIAN_CONSENT_REQUIRED'], 'the failed rule');
    $ok = $consent($subject, ['age' => 12, 'guardian' => ['relationship' => 'parent', 'verificationMethod' => 'id_document']]);
    check($ok['receipt']['guardian']['relationship'] === 'parent', 'guardian in the receipt');
};

$tests['revoking consent deletes the Facial ID'] = function () use ($fg, $consent) {
    $subject = unique('php-revoke');
    $consent($subject);
    $fg->enrollComplete($fg->enrollAuthorize($subject, 'shop.example', 'DE')['ticket'], unique('fid'));
    $revoked = $fg->consentRevoke($subject);
    check(in_array('authentication', $revoked['revoked'], true) && count($revoked['deletions']) === 1, 'consent.revoke');
};

$tests['invalid params name the field'] = function () use ($fg) {
    $e = rpcError(fn () => $fg->retentionSweep(null, 0));
    check($e->rpcCode === -32602 && $e->reason === 'INVALID_PARAMS', 'INVALID_PARAMS');
    check($e->data['field'] === 'params.limit', 'the field path');
};

$tests['operations'] = function () use ($fg) {
    check(isset($fg->retentionSweep(true)['sweptAt']), 'retention.sweep dry run');
    check($fg->auditVerify()['ok'] === true, 'audit.verify');
    check(is_array($fg->auditQuery(null, null, 3)['entries']), 'audit.query');
};

$tests['an unreachable daemon'] = function () {
    $e = rpcError(fn () => (new Client(sys_get_temp_dir() . '/' . unique('no-daemon') . '.sock', 2.0))->systemHealth());
    check($e instanceof Unreachable && $e->reason === 'UNREACHABLE', 'Unreachable');
};

// Without a socket path the client finds the daemon where `fioguard serve` puts it by default, as
// fioguard-client does (it prints that default in its usage). As root, also for another user.
$tests['the default socket is the daemon\'s'] = function () use ($examples) {
    $bin = getenv('FIOGUARD_BIN') ?: "$examples/../.build/debug";
    $dir = sys_get_temp_dir() . '/fg-php-client-' . bin2hex(random_bytes(6));
    mkdir($dir, 0755);
    chmod($dir, 0755);
    $client = "$bin/fioguard-client";
    $library = __DIR__ . '/FioguardClient.php';
    $users = [posix_getuid()];
    if (posix_getuid() === 0 && trim((string) shell_exec('command -v setpriv')) !== '') {
        // Copies another user can reach (the checkout may sit in a private folder).
        copy($client, "$dir/fioguard-client");
        chmod("$dir/fioguard-client", 0755);
        copy($library, "$dir/FioguardClient.php");
        chmod("$dir/FioguardClient.php", 0644);
        [$client, $library] = ["$dir/fioguard-client", "$dir/FioguardClient.php"];
        $users[] = 65534;
    }
    $run = function (array $argv, array $env): string {
        $p = proc_open($argv, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env);
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        proc_close($p);
        return $out;
    };
    $base = getenv();
    unset($base['FIOGUARD_SOCKET'], $base['XDG_RUNTIME_DIR']);
    try {
        foreach ($users as $uid) {
            $asUser = $uid === posix_getuid() ? [] : ['setpriv', "--reuid=$uid", "--regid=$uid", '--clear-groups'];
            foreach ([[], ['XDG_RUNTIME_DIR' => '/run/user/4242'], ['FIOGUARD_SOCKET' => '/srv/fg.sock']] as $extra) {
                $env = $extra + $base;
                $usage = $run([...$asUser, $client, '--help'], $env);
                check(preg_match('/--socket PATH .*\(default: ([^)]+)\)/', $usage, $m) === 1, "fioguard-client's usage: $usage");
                $ours = $run([...$asUser, PHP_BINARY, '-r', 'require $argv[1]; echo Fioguard\Client::defaultSocket();', $library], $env);
                check($ours === $m[1], "uid $uid " . json_encode($extra) . ": client $ours, daemon {$m[1]}");
            }
        }
    } finally {
        array_map('unlink', glob("$dir/*"));
        rmdir($dir);
    }
};

foreach ($tests as $name => $test) {
    try {
        $test();
        $passed++;
        echo "ok - $name\n";
    } catch (\Throwable $t) {
        $failed++;
        echo "not ok - $name: " . get_class($t) . ': ' . $t->getMessage() . "\n";
    }
}
echo "php client: $passed passed, $failed failed\n";
exit($failed === 0 ? 0 : 1);
