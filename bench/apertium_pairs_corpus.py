"""Eight everyday support sentences in the languages the Debian Apertium pairs read, each with
the English it means: the X→en half of `bench_apertium_pairs.py`.

Written for this measurement (no real customer text in these languages is available here);
the same eight meanings in every language, so the figures compare pairs, not sentences.
"""

from __future__ import annotations

ENGLISH = [
    "My order has not arrived yet.",
    "I want to cancel my subscription.",
    "Where is my package?",
    "I paid twice for the same order.",
    "Can you send me a new invoice?",
    "The product is broken and I want to return it.",
    "Thank you for your help.",
    "I cannot log in to my account.",
]

SENTENCES: dict[str, list[str]] = {
    "es": [
        "Mi pedido todavía no ha llegado.",
        "Quiero cancelar mi suscripción.",
        "¿Dónde está mi paquete?",
        "Pagué dos veces por el mismo pedido.",
        "¿Pueden enviarme una factura nueva?",
        "El producto está roto y quiero devolverlo.",
        "Gracias por su ayuda.",
        "No puedo iniciar sesión en mi cuenta.",
    ],
    "fr": [
        "Ma commande n'est pas encore arrivée.",
        "Je veux annuler mon abonnement.",
        "Où est mon colis ?",
        "J'ai payé deux fois pour la même commande.",
        "Pouvez-vous m'envoyer une nouvelle facture ?",
        "Le produit est cassé et je veux le retourner.",
        "Merci pour votre aide.",
        "Je n'arrive pas à me connecter à mon compte.",
    ],
    "it": [
        "Il mio ordine non è ancora arrivato.",
        "Voglio annullare il mio abbonamento.",
        "Dov'è il mio pacco?",
        "Ho pagato due volte per lo stesso ordine.",
        "Potete inviarmi una nuova fattura?",
        "Il prodotto è rotto e voglio restituirlo.",
        "Grazie per il vostro aiuto.",
        "Non riesco ad accedere al mio account.",
    ],
    "ro": [
        "Comanda mea nu a sosit încă.",
        "Vreau să îmi anulez abonamentul.",
        "Unde este coletul meu?",
        "Am plătit de două ori pentru aceeași comandă.",
        "Îmi puteți trimite o factură nouă?",
        "Produsul este defect și vreau să îl returnez.",
        "Vă mulțumesc pentru ajutor.",
        "Nu mă pot conecta la contul meu.",
    ],
    "eo": [
        "Mia mendo ankoraŭ ne alvenis.",
        "Mi volas nuligi mian abonon.",
        "Kie estas mia pakaĵo?",
        "Mi pagis dufoje por la sama mendo.",
        "Ĉu vi povas sendi al mi novan fakturon?",
        "La produkto estas rompita kaj mi volas redoni ĝin.",
        "Dankon pro via helpo.",
        "Mi ne povas ensaluti en mian konton.",
    ],
    "hr": [
        "Moja narudžba još nije stigla.",
        "Želim otkazati pretplatu.",
        "Gdje je moj paket?",
        "Platio sam dva puta za istu narudžbu.",
        "Možete li mi poslati novi račun?",
        "Proizvod je pokvaren i želim ga vratiti.",
        "Hvala vam na pomoći.",
        "Ne mogu se prijaviti na svoj račun.",
    ],
    "sr-Cyrl": [
        "Моја поруџбина још није стигла.",
        "Желим да откажем претплату.",
        "Где је мој пакет?",
        "Платио сам два пута за исту поруџбину.",
        "Можете ли да ми пошаљете нову фактуру?",
        "Производ је покварен и желим да га вратим.",
        "Хвала вам на помоћи.",
        "Не могу да се пријавим на свој налог.",
    ],
    "is": [
        "Pöntunin mín er ekki komin enn.",
        "Ég vil segja upp áskriftinni minni.",
        "Hvar er pakkinn minn?",
        "Ég borgaði tvisvar fyrir sömu pöntunina.",
        "Getið þið sent mér nýjan reikning?",
        "Varan er biluð og ég vil skila henni.",
        "Takk fyrir hjálpina.",
        "Ég get ekki skráð mig inn á aðganginn minn.",
    ],
    "mk": [
        "Мојата нарачка сè уште не пристигна.",
        "Сакам да ја откажам претплатата.",
        "Каде е мојот пакет?",
        "Платив двапати за истата нарачка.",
        "Можете ли да ми испратите нова фактура?",
        "Производот е расипан и сакам да го вратам.",
        "Ви благодарам за помошта.",
        "Не можам да се најавам на мојата сметка.",
    ],
    "eu": [
        "Nire eskaera ez da oraindik iritsi.",
        "Nire harpidetza bertan behera utzi nahi dut.",
        "Non dago nire paketea?",
        "Bi aldiz ordaindu dut eskaera bera.",
        "Faktura berri bat bidal diezadakezue?",
        "Produktua hautsita dago eta itzuli nahi dut.",
        "Eskerrik asko zuen laguntzagatik.",
        "Ezin naiz nire kontuan sartu.",
    ],
}
