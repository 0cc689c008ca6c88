"""Words that say nothing about what a mail is for: greetings, courtesy, pronouns and the
commonest function words of the languages clients write in (normalized: lower case, no
accents). A mail made only of these ("Hola, buenos días", "Hello, thanks!") has no evidence
to sort, whatever weight the models happen to give them."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEUTRAL_WORDS = _words(
    """
    hola buenas buenos dias tardes noches saludos saludo gracias muchas mucho un una unos unas
    el la los las lo de del al a en y o que por para con mi mis su sus tu tus nos les le
    me te se es son esta estan este esto eso estoy somos hay muy bien favor cordial cordiales
    atentamente estimado estimada estimados senor senora senores equipo quisiera queria
    necesito podrian pueden puede ayuda ayudar pregunta duda dudas quiero gustaria
    espero respuesta pronto adjunto adjunta saludar un cordialmente abrazo ok vale
    hi hello hey dear thanks thank you your yours regards best kind sincerely cheers please
    pls the an and or of to in on for with from by is are be am was were it this that these
    those my our we us me he she they them his her its have has had do does did can could
    would should will shall may might wish hope hoping well good morning afternoon evening
    team support customer service help question query asap regarding re fw fwd soon
    bon bona dia tarda bones molt moltes gracies salutacions cordials benvolgut benvolguts
    benvolguda hola els les amb per del dels al als em et ens us vostre vostra nostre
    nostra aquest aquesta aixo estic som sou siusplau sisplau si us plau voldria
    hallo guten tag morgen abend sehr geehrte geehrter damen herren liebe lieber danke
    vielen dank bitte mit freundlichen grussen gruss gruessen viele ich wir sie ihr ihre
    und oder der die das den dem des ein eine einen einem ist sind bin war habe haben
    bonjour bonsoir salut madame monsieur merci beaucoup cordialement bien vous nous je il
    elle les des une un le la du et ou est sont avec pour par sur dans votre vos notre
    ola bom boa tarde noite obrigado obrigada prezados prezado caro cara senhores
    atenciosamente cumprimentos voce voces nos eu uma um os as do da dos das em com
    ciao buongiorno buonasera salve gentile gentili grazie mille cordiali distinti saluti
    io noi voi il lo gli le di da con su per tra fra sono siamo e una uno
    """
)
