#pragma once
// Fixed test keys of the auth fuzzers (made with `openssl genpkey` for this purpose only; they
// protect nothing). Fixed rather than generated, so that a corpus entry signed with them replays
// the same way on every run.

#include <string_view>

namespace herald::fuzz {

constexpr std::string_view kRsaPrivateKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDLzQAUs8xiUV6i\n"
    "wAaN+EVP0A2KSJTrpVTpuW8tQji1VoSkf5+Tej2RwgxJ14A5+398UOaAactRf9/U\n"
    "2Arr9JRsIHG4b8hul/up1PzRSlSg0aj5GXsqSgQ85AAoc95A2z6cv+yN6+D+L2ct\n"
    "Y958edxJweTdBpT2URivrQ/ctuzK1Eyytcvg7Kua+tnvTxkNPeTLqGQKsqeMaN4S\n"
    "siLCuaFc8av+/9a9AVE0P/sW7odYPuFSNsovXRuuC/DB+oNn94JAcJOSKZDHGzxi\n"
    "BBGzloJVAFbu41If9X3+xSd5XHzv7HP4m4ne45dHEtdnRhjLr+PZ4OJkMQRQ0KgP\n"
    "d8kdl6P5AgMBAAECgf8nM2vuGVeeoNCU+9WLRTfV60kaB95caueXkGCjSP04WmRz\n"
    "VveBsndBI4xllAjr0vWebQKnV3zmgM/Vgu0Bc5yzE+KUWFV9wOD1vcHrnO562Ann\n"
    "rU5qHrR92Vi+Eo7+KmIFRBT3bNLkJD/f2st7UNYSqdKQl7eROmFS1Q7YdmULUw2a\n"
    "5movP2QT0Eriaxsru/vyQlCxYwRHQTlhGulg+Q0zJzccs1V6XR3Np9HvE5Sb6XtC\n"
    "Ar7C2ugmXZPPzQYeBmEansAAaSaa7K+faes1fO+mOwjPD/Q9hhS0U51ga617fXcP\n"
    "m1l7XJmVJ6BHIdJONyedC4WQOIegUj8xst1lrosCgYEA/fj1z7D3T+X8uR1J5lay\n"
    "0gjjDYBTk3FUGdpNJau5aE29fBp26FEeY+hXJJ3IScycl8Sv/frHEnvOTB6tBOld\n"
    "ylbjm50Diuug0YnaCn4+Xyi0x+47mPVHsvZHyz33OjC4cWNbIolIEUeSFiY19Ijl\n"
    "Ar5jzsZ+gntS4JJ0gEVNb/cCgYEAzW2BQs07ETvo4U+Qu48QeM9Qpua5LfV3Wr9J\n"
    "YEq1D6Q/AKdH6MzlMD9kbTJx3aZcVrCeLTdnvNvJFpKEHOI6yAzQ7In+/gX+hRMv\n"
    "SySe9HsvvSnQNKuim5ZKgyqFeg/mhkyKl9mksiXaGJiYK49Y8ojEFjRvyoGvXm6s\n"
    "/2wGb48CgYEA9CsJME8DxbXn/ZSR+rg5nUJcABvyvdsDrwM4jlIFo6ix1oGe9gUf\n"
    "AZBbT2G+MG1d02+Of9A82aFbmcUYNJOjzycwFeijgki8yRcOIG50yonZHCoG9CxE\n"
    "bWLnbRe6+x/iA2kxMgfn2G0FnvPHhbyi57thO2eMMygbarqC9Nsr8ssCgYB0+kFc\n"
    "D8/t3WacPpmVJD9l++/aSpHyaNABXeHjskbuVEIIFjmtiFeOJNsED3ClneEBAGvi\n"
    "JaWt9p3Ie8A9TlnYpuuldmM8tZ8cmjMZIA5f+3HQzumfxIjA/lEJ5gHB4yILIbTe\n"
    "CXJue314+hPU4jjtSxIV7uAlublqFa3veM0lYwKBgQD7rAnq4xQ1oWg7OTuy65ZG\n"
    "1ZSVbLtRrDeC5KLZnuxFpUaEzBWy3ASzZtyYtGVyBjTip97H40f3MlR8fMS6/C5y\n"
    "cvqxI6/I2nT4EZd7lEDl5FjCfmbfYYvrvR7Ac2MW4IRHiE2UwJMT+WYcvbURjAUT\n"
    "JalNHoaNol/gpum5Y1b6Wg==\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kEcPrivateKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwK3HxgaRQyhLQBCd\n"
    "XzsKuQVlAsVqs/kyZfspkmPKzq+hRANCAAQFpEuthOqMS7dEIBDTTjN3xov9Z/Yx\n"
    "GFnPgTJJpj6006RLQ8EVS5EzExflk/s2K8Hsl7IPl/6h5a1LKeILju5k\n"
    "-----END PRIVATE KEY-----\n";

}  // namespace herald::fuzz
