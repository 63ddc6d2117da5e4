package HotelBroker;

# Kafka brokers of a suite's own, for the fault suites: started with
# scripts/kafka in a temporary directory, killed and restarted node by
# node, stopped and removed at exit whatever happens (kept with
# HOTEL_TEST_KEEP), by scripts/kafka stop.
#
#     my $b = own_broker();                 # {dir, bootstrap}
#     my $c = own_cluster(3);               # three nodes
#     my $t = own_broker(tls => 1);         # and an SSL listener, CAs
#     my $s = own_broker(sasl => 1);        # and a SASL_SSL listener
#     broker_kill($b, 1); broker_restart($b, 1);
#     broker_cmd($c, 'topic', $name, 3, 3); # any scripts/kafka command
#     broker_stop($b);

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use Test::More ();

our @EXPORT_OK = qw(own_broker own_cluster broker_kill broker_restart
                    broker_cmd broker_stop);

my $Root = File::Spec->rel2abs(dirname(__FILE__) . '/../..');

my @Brokers;     # started here, for the END cleanup
my $Parent = $$;

# an interrupted suite still stops what it started (END blocks run on exit)
for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub { exit 128 + 2 } unless $SIG{$sig};
}

# A single-node broker of our own (scripts/kafka start in a temporary
# directory), stopped and removed at exit whatever happens (kept, with
# HOTEL_TEST_KEEP). Returns {dir, bootstrap}; with tls => 1 the broker
# also has an SSL listener, {tls_bootstrap}, whose certificate a CA of its
# own signed, {ca} (a PEM file), and {wrong_ca} is another CA, one that
# signed nothing the broker has (made with openssl). With sasl => 1 it
# has a SASL_SSL listener, {sasl_bootstrap}, and {client} holds the
# properties of its user (sasl.username, sasl.password, ssl.ca.location).
# Its log is $b->{dir}/node1/server.log.
sub own_broker { own_cluster(1, @_) }

# A cluster of $nodes (1 or 3) nodes of our own, as own_broker(); a
# three-node cluster has RF 3 and min.insync.replicas 2 by default.
sub own_cluster {
    my ($nodes, %o) = @_;
    $nodes ||= 1;
    my $dir = tempdir('hotel-kafka-XXXXXX', TMPDIR => 1);
    my $b = { dir => $dir, owner => $$, nodes => $nodes };
    push @Brokers, $b;
    # its progress (and librdkafka's chatter from kcat) to a file, shown
    # only when it fails
    my $env = ($o{tls} ? 'HOTEL_KAFKA_TLS=1 ' : '')
            . ($o{sasl} ? 'HOTEL_KAFKA_SASL=1 ' : '');
    my $cmd = qq{$env"$Root/scripts/kafka" start "$dir" $nodes}
            . qq{ 2>"$dir/start.log"};
    my $boot = `$cmd`;
    die "scripts/kafka start $nodes failed (status $?):\n"
        . slurp("$dir/start.log") if $?;
    chomp $boot;
    $b->{bootstrap} = $boot;
    if ($o{tls}) {
        chomp($b->{tls_bootstrap} = slurp("$dir/bootstrap-tls"));
        $b->{ca} = "$dir/tls/ca.pem";
        my $other = "$dir/other-ca";
        mkdir $other or die "mkdir $other: $!\n";
        system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
               . " -nodes -sha256 -days 1 -subj '/CN=not the broker CA'"
               . " -keyout '$other/ca.key' -out '$other/ca.pem'"
               . " >'$other/openssl.log' 2>&1") == 0
            or die "making the other CA failed:\n"
                   . slurp("$other/openssl.log");
        $b->{wrong_ca} = "$other/ca.pem";
    }
    if ($o{sasl}) {
        chomp($b->{sasl_bootstrap} = slurp("$dir/bootstrap-sasl"));
        $b->{client} = { map { /^([^=]+)=(.*)$/ ? ($1 => $2) : () }
                         split /\n/, slurp("$dir/sasl/client.properties") };
    }
    return $b;
}

sub broker_kill {
    my ($b, $node) = @_;
    broker_cmd($b, 'kill', $node || 1);
}

sub broker_restart {
    my ($b, $node) = @_;
    broker_cmd($b, 'restart-node', $node || 1);
}

sub broker_cmd {
    my ($b, $cmd, @args) = @_;
    system("\"$Root/scripts/kafka\" $cmd \"$b->{dir}\" @args "
           . ">>\"$b->{dir}/start.log\" 2>&1") == 0
        or die "scripts/kafka $cmd failed:\n" . slurp("$b->{dir}/start.log");
}

sub broker_stop {
    my $b = shift;
    return if $b->{stopped} || $b->{owner} != $$;
    $b->{stopped} = 1;
    system("\"$Root/scripts/kafka\" stop \"$b->{dir}\" >/dev/null 2>&1");
    if ($ENV{HOTEL_TEST_KEEP}) {
        Test::More::diag("HOTEL_TEST_KEEP: broker files left in $b->{dir}");
    } else {
        remove_tree($b->{dir});
    }
}

END {
    if ($$ == $Parent) {
        local $?;
        broker_stop($_) for @Brokers;
    }
}

sub slurp {
    my $file = shift;
    open my $fh, '<', $file or return '';
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

1;
